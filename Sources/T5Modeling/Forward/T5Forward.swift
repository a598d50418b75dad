// The T5 forward pass, as transformers' modeling_t5.py computes it: the encoder stack over a padded
// batch of prompts, the cross-attention keys/values derived from its output once, then one decoder step per token.
//
// What is easy to get wrong, and is right here:
// - attention has no 1/sqrt(d_kv) scale (it is folded into the initialisation);
// - the relative position bias comes from block 0 of each stack and is reused by every block:
//   bidirectional buckets in the encoder, causal ones in the decoder; cross-attention has none;
// - T5's layer norm is an RMS norm without mean or bias;
// - `gated-gelu` is gelu_new (tanh approximation) on wi_0, times wi_1;
// - with tied embeddings the decoder output is scaled by d_model^-0.5 before the (shared) head.
import T5Kernels
import T5Tensor

extension T5Model {
    // MARK: Encoder

    /// Runs the encoder over a right-padded batch. The output, `[batch * length, d_model]`, is left in `s.x`.
    /// Padding positions get values too; every later step ignores them.
    func runEncoder(_ p: PromptBatch, _ s: EncoderState) {
        let c = config, d = c.dModel, inner = c.innerDim, dkv = c.dKV, len = p.length
        let rows = p.batch * len
        // q, k and v of a position side by side in one row of `qkv` (three products, each filling its third).
        let x = s.x.pointer, h = s.h.pointer, qkv = s.qkv, ld = 3 * inner
        let q = qkv, k = qkv + inner, v = qkv + 2 * inner
        // The attention's output goes to `h` once q, k and v are computed from it.
        let ctx = s.ctx, scores = s.scores.pointer, perHead = s.head.pointer
        // Attention on the worker pool with the C kernels when they run here: on AVX-512 each head's keys packed into
        // `perHead`, on AVX2 its values transposed there.
        let onPool = encoderAttentionOnPool(runtime.pool)
        let packed = packedAttentionOnPool(runtime.pool)

        // Token embeddings (T5 does not scale them).
        embed(p.ids, into: x)

        // Position bias for every key-minus-query offset, computed once and shared by all blocks.
        let bias = PositionBiasTable(
            table: weights.encoderPositionBias.pointer, heads: c.numHeads, numBuckets: c.relativeAttentionNumBuckets,
            maxDistance: c.relativeAttentionMaxDistance, bidirectional: true, offsets: -(len - 1)...(len - 1))

        for block in weights.encoder {
            // Self-attention sub-layer: x += o(attention(norm(x))).
            let a = block.selfAttention
            rmsNorm(x, rows: rows, dim: d, weight: a.layerNorm.pointer, eps: c.layerNormEpsilon, into: h, pool: runtime.pool)
            linear(h, rows: rows, a.q, out: inner, in: d, into: q, ldy: ld)
            linear(h, rows: rows, a.k, out: inner, in: d, into: k, ldy: ld)
            linear(h, rows: rows, a.v, out: inner, in: d, into: v, ldy: ld)
            for b in 0..<p.batch {
                // Padding keys would get weight exp(-huge) = 0 under transformers' additive mask,
                // so attending over the real tokens only is exact; padding queries are skipped.
                let n = p.lengths[b], base = b * len * ld, ctxBase = b * len * inner
                if packed {
                    for head in 0..<c.numHeads {
                        let off = base + head * dkv
                        bias.withOffsets(head: head) { row0 in
                            encoderAttentionPacked(
                                q: q + off, k: k + off, v: v + off, ld: ld, ctx: ctx + ctxBase + head * dkv, ldc: inner,
                                scores: scores, keyPanels: perHead, biasRow0: row0, n: n, dkv: dkv,
                                pool: runtime.pool)
                        }
                    }
                    continue
                }
                if onPool {
                    for head in 0..<c.numHeads {
                        // V_h transposed: the C kernels' weight operand.
                        let vh = v + base + head * dkv
                        for j in 0..<n { for t in 0..<dkv { perHead[t * n + j] = vh[j * ld + t] } }
                        bias.withOffsets(head: head) { row0 in
                            encoderAttention(EncoderAttentionHead(
                                q: q + base + head * dkv, k: k + base + head * dkv, ld: ld, vT: perHead,
                                ctx: ctx + ctxBase + head * dkv, ldc: inner, scores: scores, biasRow0: row0, n: n, dkv: dkv),
                                pool: runtime.pool)
                        }
                    }
                    continue
                }
                for head in 0..<c.numHeads {
                    let off = base + head * dkv
                    // scores[n, n] = Q_h · K_hᵀ (no 1/sqrt(d_kv) in T5)
                    matmulTransposedB(q + off, lda: ld, k + off, ldb: ld, into: scores, ldc: n, m: n, n: n, k: dkv)
                    for i in 0..<n { bias.addSoftmax(head: head, query: i, keys: n, to: scores + i * n) }
                    // ctx_h[n, d_kv] = P · V_h
                    matmul(scores, lda: n, v + off, ldb: ld, into: ctx + ctxBase + head * dkv, ldc: inner, m: n, n: dkv, k: n)
                }
            }
            linear(ctx, rows: rows, a.o, out: d, in: inner, into: x, accumulate: true)

            // Feed-forward sub-layer: x += wo(act(wi·norm(x))) (gated: act(wi_0·n) * wi_1·n, the two halves side by
            // side in each row of `ff`, activated and multiplied in one pass).
            let f = block.feedForward
            if let wiGate = f.wiGate {
                rmsNorm(x, rows: rows, dim: d, weight: f.layerNorm.pointer, eps: c.layerNormEpsilon, into: h, pool: runtime.pool)
                linear(h, rows: rows, f.wi, out: c.dFF, in: d, into: s.ff, ldy: 2 * c.dFF)
                linear(h, rows: rows, wiGate, out: c.dFF, in: d, into: s.ff + c.dFF, ldy: 2 * c.dFF)
                let ldf = gatedActivate(s.ff, rows: rows, width: c.dFF, activation, pool: runtime.pool)
                linear(s.ff, rows: rows, ldx: ldf, f.wo, out: d, in: c.dFF, into: x, accumulate: true)
            } else {
                feedForward(f, rows: rows, x: x, h: h, ff: s.ff, gate: nil)
            }
        }
        rmsNorm(x, rows: rows, dim: d, weight: weights.encoderFinalNorm.pointer, eps: c.layerNormEpsilon, into: x, pool: runtime.pool)
    }

    /// Projects the encoder output to every decoder block's cross-attention keys and values, once per prompt.
    func computeCrossAttentionCache(encoderOutput: UnsafePointer<Float>, rows: Int, keys: [UnsafeMutablePointer<Float>],
                                    values: [UnsafeMutablePointer<Float>]) {
        let d = config.dModel, inner = config.innerDim
        for (l, block) in weights.decoder.enumerated() {
            let a = block.crossAttention
            linear(encoderOutput, rows: rows, a.k, out: inner, in: d, into: keys[l])
            linear(encoderOutput, rows: rows, a.v, out: inner, in: d, into: values[l])
        }
    }

    // MARK: Decoder

    /// Feeds one token to each row of the step (`s.slots[0..<s.batch]`), each at its own position, and leaves the
    /// next-token logits in `s.logits` (`[batch, vocab]`, batch order). The caller has checked positions and token ids.
    func decoderStep(_ tokens: UnsafePointer<Int>, _ s: DecoderState) {
        let c = config, d = c.dModel, inner = c.innerDim, batch = s.batch
        let capacity = s.capacity
        let x = s.x.pointer, h = s.h.pointer, q = s.q.pointer, k = s.k.pointer, v = s.v.pointer
        let ctx = s.ctx.pointer
        let slots = s.slots, position = s.position, cache = s.cache, attention = s.attention

        embed(UnsafeBufferPointer(start: tokens, count: batch), into: x)

        for (l, block) in weights.decoder.enumerated() {
            // Causal self-attention over each row's positions 0...t: x += o(attention(norm(x))).
            let a = block.selfAttention
            rmsNorm(x, rows: batch, dim: d, weight: a.layerNorm.pointer, eps: c.layerNormEpsilon, into: h, pool: runtime.pool)
            linear(h, rows: batch, a.q, into: q, a.k, into: k, a.v, into: v, rowIndependent: true)
            for b in 0..<batch {
                // The row's cache holds position t (the session grew it before the step).
                let slot = slots[b], t = position[slot]
                let rowK = cache.rows(slot, layer: l, part: 0), rowV = cache.rows(slot, layer: l, part: 1)
                rowK.store(position: t, k + b * inner)
                rowV.store(position: t, v + b * inner)
                attention.set(row: b, keys: rowK, values: rowV, count: t + 1, query: t)
            }
            // Per row and head: ctx = softmax(K·q + position bias) · V over positions 0...t.
            attend(attention, batch: batch, q: q, ctx: ctx, bias: s.positionBias)
            linear(ctx, rows: batch, a.o, out: d, in: inner, into: x, accumulate: true, rowIndependent: true)

            // Cross-attention over the real (unpadded) encoder positions; no position bias.
            let ca = block.crossAttention
            rmsNorm(x, rows: batch, dim: d, weight: ca.layerNorm.pointer, eps: c.layerNormEpsilon, into: h, pool: runtime.pool)
            linear(h, rows: batch, ca.q, out: inner, in: d, into: q, rowIndependent: true)
            for b in 0..<batch {
                let slot = slots[b]
                attention.set(row: b, keys: s.crossK[l * capacity + slot], values: s.crossV[l * capacity + slot],
                              count: s.encoderLength[slot], query: 0)
            }
            attend(attention, batch: batch, q: q, ctx: ctx, bias: nil)
            linear(ctx, rows: batch, ca.o, out: d, in: inner, into: x, accumulate: true, rowIndependent: true)

            feedForward(block.feedForward, rows: batch, x: x, h: h, ff: s.ff.pointer, gate: s.gate?.pointer, rowIndependent: true)
        }

        // Final norm, the tied-head rescale, and the vocabulary projection.
        rmsNorm(x, rows: batch, dim: d, weight: weights.decoderFinalNorm.pointer, eps: c.layerNormEpsilon, into: h, pool: runtime.pool)
        if c.tieWordEmbeddings {
            scale(h, by: Float(1 / Double(d).squareRoot()), count: batch * d)
        }
        linear(h, rows: batch, weights.lmHead, out: c.vocabSize, in: d, into: s.logits.pointer, rowIndependent: true)
        for b in 0..<batch { position[slots[b]] += 1 }
    }

    // MARK: Shared pieces

    /// Copies the embedding row of each id into consecutive rows of `x`. Ids were validated by the caller.
    private func embed<C: Collection>(_ ids: C, into x: UnsafeMutablePointer<Float>) where C.Element == Int {
        let d = config.dModel
        for (r, id) in ids.enumerated() {
            weights.shared.row(id, into: x + r * d)
        }
    }

    /// `x += wo(act(wi · norm(x)))`, gated variants multiplying by `wi_1 · norm(x)` before `wo`.
    private func feedForward(
        _ w: FeedForwardWeights, rows: Int, x: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
        ff: UnsafeMutablePointer<Float>, gate: UnsafeMutablePointer<Float>?, rowIndependent: Bool = false
    ) {
        let c = config, d = c.dModel
        rmsNorm(x, rows: rows, dim: d, weight: w.layerNorm.pointer, eps: c.layerNormEpsilon, into: h, pool: runtime.pool)
        if let wiGate = w.wiGate, let gate {
            linear(h, rows: rows, w.wi, into: ff, wiGate, into: gate, rowIndependent: rowIndependent)
            T5Kernels.gate(ff, by: gate, count: rows * c.dFF, activation, level: runtime.instructionSet)
        } else {
            linear(h, rows: rows, w.wi, out: c.dFF, in: d, into: ff, rowIndependent: rowIndependent)
            activate(ff, count: rows * c.dFF, activation)
        }
        linear(ff, rows: rows, w.wo, out: d, in: c.dFF, into: x, accumulate: true, rowIndependent: rowIndependent)
    }
}
