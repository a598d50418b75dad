// One head of the encoder's bidirectional self-attention, split by query rows across the worker pool: each chunk of
// rows computes its scores (Q·Kᵀ), adds the position bias and takes the softmax, then multiplies by V, all with the
// C kernels reading the heads in place (row strides), so no OpenBLAS call per head and no single-threaded softmax
// (PERFORMANCE.md, "Peer comparison under load, encoder fusion, encoder attention on the pool").
import CT5Kernels

/// One head over `n` positions: `ctx[i] = softmax(q[i]·Kᵀ + bias(i)) · V`.
package struct EncoderAttentionHead {
    /// `[n, dkv]` rows `ld` apart: the head's queries and keys.
    package let q, k: UnsafePointer<Float>
    package let ld: Int
    /// `[dkv, n]`: the head's values, transposed (rows of the C kernels' weight operand).
    package let vT: UnsafePointer<Float>
    /// `[n, dkv]` rows `ldc` apart: where the head's output goes.
    package let ctx: UnsafeMutablePointer<Float>
    package let ldc: Int
    /// `[n, n]` scratch.
    package let scores: UnsafeMutablePointer<Float>
    /// Bias of query `i` for key `j` at `biasRow0[j - i]` (valid for `-(n-1)...(n-1)`).
    package let biasRow0: UnsafePointer<Float>
    package let n: Int
    package let dkv: Int

    package init(q: UnsafePointer<Float>, k: UnsafePointer<Float>, ld: Int, vT: UnsafePointer<Float>,
                 ctx: UnsafeMutablePointer<Float>, ldc: Int, scores: UnsafeMutablePointer<Float>,
                 biasRow0: UnsafePointer<Float>, n: Int, dkv: Int) {
        self.q = q; self.k = k; self.ld = ld; self.vT = vT; self.ctx = ctx; self.ldc = ldc
        self.scores = scores; self.biasRow0 = biasRow0; self.n = n; self.dkv = dkv
    }
}

private struct HeadJob {
    let head: EncoderAttentionHead
    let level: InstructionSet
}

/// Floats of key panels `encoderAttentionPacked` needs for `n` positions of `dkv` dimensions.
package func packedKeyFloats(n: Int, dkv: Int) -> Int { (n + 31) / 32 * 32 * dkv }

/// Whether `encoderAttentionPacked` runs on `pool` (AVX-512 machines).
package func packedAttentionOnPool(_ pool: WorkerPool) -> Bool { pool.instructionSet == .avx512 }

/// One head on AVX-512 machines: its keys packed once into `keyPanels` (`packedKeyFloats` floats) on this thread, then
/// query rows split across the pool, each chunk running scores, bias + softmax and P·V in one C call with the
/// packed-panel products, V read in place (PERFORMANCE.md, "Encoder products on the pool").
package func encoderAttentionPacked(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
    ctx: UnsafeMutablePointer<Float>, ldc: Int, scores: UnsafeMutablePointer<Float>,
    keyPanels: UnsafeMutablePointer<Float>, biasRow0: UnsafePointer<Float>, n: Int, dkv: Int, pool: WorkerPool
) {
    _ = t5k_pack_keys_avx512(k, ld, n, dkv, keyPanels)
    var head = T5KAttentionHead(q: q, v: v, ld: ld, keyPanels: keyPanels, ctx: ctx, ldc: ldc, scores: scores,
                                biasRow0: biasRow0, n: n, dkv: dkv)
    withUnsafePointer(to: &head) { p in
        pool.parallelFor(count: n, chunk: 16, context: UnsafeRawPointer(p)) { context, begin, end in
            _ = t5k_encoder_attention_avx512(context.assumingMemoryBound(to: T5KAttentionHead.self), begin, end)
        }
    }
}

/// Whether `encoderAttention` runs on `pool` (the C kernels); otherwise callers use sgemm per head.
package func encoderAttentionOnPool(_ pool: WorkerPool) -> Bool { pool.instructionSet != .portable }

/// Runs `head` on the pool's threads, 16 query rows per chunk. Requires `encoderAttentionOnPool(pool)`.
package func encoderAttention(_ head: EncoderAttentionHead, pool: WorkerPool) {
    var job = HeadJob(head: head, level: pool.instructionSet)
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: head.n, chunk: 16, context: UnsafeRawPointer(p)) { context, begin, end in
            let job = context.assumingMemoryBound(to: HeadJob.self).pointee
            let h = job.head, n = h.n, rows = end - begin
            // scores[begin..<end, 0..<n] = Q[begin..<end] · Kᵀ (no 1/sqrt(d_kv) in T5)
            var scores = T5KLinear(x: h.q + begin * h.ld, w: UnsafeRawPointer(h.k), scales: nil, y: h.scores + begin * n,
                                   rows: rows, in: h.dkv, out: n, format: Int32(T5K_F32), accumulate: 0,
                                   ldx: h.ld, ldw: h.ld, ldy: n)
            run(&scores, job.level)
            for i in begin..<end { softmax(h.scores + i * n, count: n, adding: h.biasRow0 - i) }
            // ctx[begin..<end] = P[begin..<end] · V
            var context = T5KLinear(x: h.scores + begin * n, w: UnsafeRawPointer(h.vT), scales: nil,
                                    y: h.ctx + begin * h.ldc, rows: rows, in: n, out: h.dkv, format: Int32(T5K_F32),
                                    accumulate: 0, ldx: n, ldw: n, ldy: h.ldc)
            run(&context, job.level)
        }
    }
}

@inline(__always)
private func run(_ job: inout T5KLinear, _ level: InstructionSet) {
    let out = job.out
    switch level {
    case .avx512: _ = t5k_linear_avx512(&job, 0, out)
    case .avx2: _ = t5k_linear_avx2(&job, 0, out)
    case .portable: break
    }
}
