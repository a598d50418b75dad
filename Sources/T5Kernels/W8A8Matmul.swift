// The opt-in W8A8 product (`int8Activations`): int8 weights times input rows quantised to int8, one scale per row
// (Int8Quantize, the int8 KV cache's rounding), summed in 32-bit integers (linear_w8a8.c). Faster than widening the
// weights to f32 wherever the product is compute-bound (batched decode, the encoder), on AVX-512 VNNI; not exact to
// f32 activations, so it is never the default (PERFORMANCE.md, "W8A8 with VNNI").
import CT5Kernels
import T5Tensor

/// Whether this CPU runs the VNNI kernel; elsewhere the plain C loop gives the same bits, slowly.
package let cpuHasVNNI = t5k_cpu_has_vnni() != 0

/// A W8A8 product as the pool's chunks see it.
private struct W8A8Job {
    var c: T5KLinearW8A8
    let vnni: Bool
}

/// `y[rows, out] = quantise(x) · wᵀ (+ y when accumulate)` for a matrix with `rowSums` (W8A8). Each row is quantised
/// and summed on its own, so a row's result never depends on the other rows of the call.
package func w8a8Linear(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: PackedMatrix, into y: UnsafeMutablePointer<Float>, ldy: Int,
    accumulate: Bool, pool: WorkerPool
) {
    guard let rowSums = w.rowSums, let scales = w.scales, w.format == .int8 else {
        preconditionFailure("w8a8Linear: the matrix is not int8 with row sums")
    }
    let n = w.inFeatures
    // The quantised rows and their scales, on the stack for decode-sized calls (no allocation per step).
    let scaleOffset = (rows * n + 63) & ~63
    withUnsafeTemporaryAllocation(byteCount: scaleOffset + rows * 4, alignment: 64) { scratch in
        let base = scratch.baseAddress!
        let q = base.assumingMemoryBound(to: Int8.self), xs = (base + scaleOffset).assumingMemoryBound(to: Float.self)
        if ldx == n {
            Int8Quantize.quantize(x, rows: rows, cols: n, values: q, scales: xs, level: pool.instructionSet)
        } else {
            for r in 0..<rows {
                Int8Quantize.quantize(x + r * ldx, rows: 1, cols: n, values: q + r * n, scales: xs + r, level: pool.instructionSet)
            }
        }
        var job = W8A8Job(
            c: T5KLinearW8A8(xq: q, xscales: xs, w: w.values.assumingMemoryBound(to: Int8.self), wscales: scales,
                             wsums: rowSums, y: y, rows: rows, in: n, out: w.outFeatures, ldxq: n, ldy: ldy,
                             accumulate: accumulate ? 1 : 0),
            vnni: pool.instructionSet == .avx512 && cpuHasVNNI)
        // Chunks of whole 8-row tiles per thread, as the f32-compute kernels split them.
        let chunk = (max(16, (w.outFeatures + pool.threadCount - 1) / pool.threadCount) + 7) & ~7
        withUnsafePointer(to: &job) { p in
            pool.parallelFor(count: w.outFeatures, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
                let job = context.assumingMemoryBound(to: W8A8Job.self)
                withUnsafePointer(to: job.pointee.c) { c in
                    if job.pointee.vnni, t5k_linear_w8a8_vnni(c, begin, end) != 0 { return }
                    t5k_linear_w8a8_plain(c, begin, end)
                }
            }
        }
    }
}

/// Σ of each row of an int8 `[out, in]` matrix: what a W8A8 matrix's `rowSums` holds.
package func int8RowSums(_ values: UnsafePointer<Int8>, out: Int, in n: Int, into sums: UnsafeMutablePointer<Int32>) {
    for o in 0..<out {
        let row = values + o * n
        var s: Int32 = 0
        for k in 0..<n { s &+= Int32(row[k]) }
        sums[o] = s
    }
}
