// The opt-in W8A8 product (`int8Activations`): int8 weights times input rows quantised to int8, one scale per row
// (Int8Quantize, the int8 KV cache's rounding), summed in 32-bit integers (linear_w8a8.c). Faster than widening the
// weights to f32 wherever the product is compute-bound (batched decode, the encoder), on AVX-512 VNNI; not exact to
// f32 activations, so it is never the default (PERFORMANCE.md, "W8A8 with VNNI").
import CT5Kernels
import T5Tensor

/// Whether this CPU runs the VNNI kernel; elsewhere the AVX2 tiles (1.3x the f32-activation int8 tiles) or the plain C
/// loop (portable level; an eighth of the AVX2 tiles' speed) give the same bits.
package let cpuHasVNNI = t5k_cpu_has_vnni() != 0

/// The widest rows a W8A8 matrix may have: no 32-bit integer sum can overflow up to this width.
package let w8a8MaxInFeatures = Int(T5K_W8A8_MAX_IN)

/// Which W8A8 kernel a runtime's level runs.
private enum W8A8Kernel {
    case vnni, avx2, plain

    init(_ level: InstructionSet) {
        switch level {
        case .avx512: self = cpuHasVNNI ? .vnni : .avx2
        case .avx2: self = .avx2
        case .portable: self = .plain
        }
    }
}

/// `y[rows, out] = quantise(x) · wᵀ (+ y when accumulate)` for a matrix with `rowSums` (W8A8). Each row is quantised
/// and summed on its own, so a row's result never depends on the other rows of the call.
package func w8a8Linear(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: PackedMatrix, into y: UnsafeMutablePointer<Float>, ldy: Int,
    accumulate: Bool, pool: WorkerPool
) {
    w8a8Products(x, rows: rows, ldx: ldx, (w, y), nil, nil, ldy: ldy, accumulate: accumulate, pool: pool)
}

/// Two or three W8A8 products of the same input (a decode step's q/k/v, wi_0/wi_1): the rows are quantised once and
/// the products share one pool dispatch. Each output is exactly what `w8a8Linear` gives.
package func w8a8LinearGroup(
    _ x: UnsafePointer<Float>, rows: Int, _ w0: PackedMatrix, into y0: UnsafeMutablePointer<Float>,
    _ w1: PackedMatrix, into y1: UnsafeMutablePointer<Float>, _ third: (PackedMatrix, UnsafeMutablePointer<Float>)?,
    pool: WorkerPool
) {
    w8a8Products(x, rows: rows, ldx: w0.inFeatures, (w0, y0), (w1, y1), third, ldy: nil, accumulate: false, pool: pool)
}

/// The products `parts` (same `inFeatures`, each with `rowSums`); `ldy` nil: each `y` dense (`outFeatures` apart).
private func w8a8Products(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ p0: (PackedMatrix, UnsafeMutablePointer<Float>),
    _ p1: (PackedMatrix, UnsafeMutablePointer<Float>)?, _ p2: (PackedMatrix, UnsafeMutablePointer<Float>)?,
    ldy: Int?, accumulate: Bool, pool: WorkerPool
) {
    let n = p0.0.inFeatures
    // The quantised rows and their scales, on the stack for decode-sized calls (no allocation per step).
    let scaleOffset = (rows * n + 63) & ~63
    withUnsafeTemporaryAllocation(byteCount: scaleOffset + rows * 4, alignment: 64) { scratch in
        let base = scratch.baseAddress!
        let q = base.assumingMemoryBound(to: Int8.self), xs = (base + scaleOffset).assumingMemoryBound(to: Float.self)
        quantizeRows(x, rows: rows, ldx: ldx, n: n, into: q, scales: xs, pool: pool)
        func part(_ p: (PackedMatrix, UnsafeMutablePointer<Float>)) -> T5KLinearW8A8 {
            let (w, y) = p
            guard let rowSums = w.rowSums, let scales = w.scales, w.format == .int8, w.inFeatures == n,
                  n <= w8a8MaxInFeatures else {
                preconditionFailure("w8a8Linear: the matrix is not int8 with row sums, or its width differs or is too large")
            }
            return T5KLinearW8A8(xq: q, xscales: xs, w: w.values.assumingMemoryBound(to: Int8.self), wscales: scales,
                                 wsums: rowSums, y: y, rows: rows, in: n, out: w.outFeatures, ldxq: n,
                                 ldy: ldy ?? w.outFeatures, accumulate: accumulate ? 1 : 0)
        }
        let first = part(p0)
        var jobs = (first, p1.map(part) ?? first, p2.map(part) ?? first)
        let kernel: @convention(c) (UnsafeRawPointer, Int, Int) -> Void
        switch W8A8Kernel(pool.instructionSet) {
        case .vnni:
            kernel = { job, begin, end in
                let j = job.assumingMemoryBound(to: T5KLinearW8A8.self)
                if t5k_linear_w8a8_vnni(j, begin, end) == 0 { t5k_linear_w8a8_plain(j, begin, end) }
            }
        case .avx2:
            kernel = { job, begin, end in
                let j = job.assumingMemoryBound(to: T5KLinearW8A8.self)
                if t5k_linear_w8a8_avx2(j, begin, end) == 0 { t5k_linear_w8a8_plain(j, begin, end) }
            }
        case .plain:
            kernel = { job, begin, end in t5k_linear_w8a8_plain(job.assumingMemoryBound(to: T5KLinearW8A8.self), begin, end) }
        }
        GroupedProducts.run(&jobs, outputs: (jobs.0.out, jobs.1.out, jobs.2.out), count: p2 != nil ? 3 : p1 != nil ? 2 : 1,
                            pool: pool, kernel)
    }
}

/// What the pool's chunks of `quantizeRows` need.
private struct QuantizeJob {
    let x: UnsafePointer<Float>
    let ldx: Int
    let n: Int
    let q: UnsafeMutablePointer<Int8>
    let scales: UnsafeMutablePointer<Float>
    let level: InstructionSet
}

/// Each row of `x` (`ldx` apart) to int8 with its scale, rows `n` bytes apart in `q`. A prompt's rows are quantised
/// across the pool: on the calling thread alone it was 4 % of an encoder profile (small, 8 x 256 rows), with the
/// other thread waiting.
private func quantizeRows(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, n: Int, into q: UnsafeMutablePointer<Int8>,
    scales: UnsafeMutablePointer<Float>, pool: WorkerPool
) {
    var job = QuantizeJob(x: x, ldx: ldx, n: n, q: q, scales: scales, level: pool.instructionSet)
    let chunk = rows >= 64 ? (rows + pool.threadCount - 1) / pool.threadCount : rows
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: rows, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
            let j = context.assumingMemoryBound(to: QuantizeJob.self).pointee
            if j.ldx == j.n {
                Int8Quantize.quantize(j.x + begin * j.n, rows: end - begin, cols: j.n, values: j.q + begin * j.n,
                                      scales: j.scales + begin, level: j.level)
            } else {
                for r in begin..<end {
                    Int8Quantize.quantize(j.x + r * j.ldx, rows: 1, cols: j.n, values: j.q + r * j.n, scales: j.scales + r,
                                          level: j.level)
                }
            }
        }
    }
}

/// Σ of each row of an int8 `[out, in]` matrix (`in` at most `w8a8MaxInFeatures`): what a W8A8 matrix's `rowSums`
/// holds, computed at load (AVX2 where the CPU has it; the same integers on every path).
package func int8RowSums(_ values: UnsafePointer<Int8>, out: Int, in n: Int, into sums: UnsafeMutablePointer<Int32>) {
    if InstructionSet.avx2.isSupported, t5k_int8_row_sums_avx2(values, out, n, sums) != 0 { return }
    t5k_int8_row_sums_plain(values, out, n, sums)
}
