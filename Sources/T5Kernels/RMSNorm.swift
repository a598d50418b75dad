// T5's layer norm: scale by the root mean square only; no mean subtraction, no bias.
import CT5Kernels
import Foundation

/// `y = weight * (x / sqrt(mean(x²) + eps))`, row by row, in the order transformers' T5LayerNorm computes it.
@inline(__always)
package func rmsNorm(
    _ x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>, eps: Float,
    into y: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let xr = x + r * dim, yr = y + r * dim
        var sum: Float = 0
        for i in 0..<dim { sum += xr[i] * xr[i] }
        let scale = 1 / (sum / Float(dim) + eps).squareRoot()
        for i in 0..<dim { yr[i] = weight[i] * (xr[i] * scale) }
    }
}

private struct NormJob {
    let x: UnsafePointer<Float>
    let dim: Int
    let weight: UnsafePointer<Float>
    let eps: Float
    let y: UnsafeMutablePointer<Float>
}

/// `rmsNorm` in the AVX-512 kernel where it runs, else the loop above: many rows (the encoder) split across `pool`, up
/// to 16 (decode steps) on the calling thread, where the portable loop was 0.8 % of a batch-8 step, serial while the
/// other threads waited. The AVX-512 sum of squares is taken 16 lanes at a time, so results differ from the loop's in
/// the last bits; each row's result is the same whatever rows share the call.
package func rmsNorm(
    _ x: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>, eps: Float,
    into y: UnsafeMutablePointer<Float>, pool: WorkerPool
) {
    guard pool.instructionSet == .avx512 else {
        rmsNorm(x, rows: rows, dim: dim, weight: weight, eps: eps, into: y)
        return
    }
    var job = NormJob(x: x, dim: dim, weight: weight, eps: eps, y: y)
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: rows, chunk: 16, context: UnsafeRawPointer(p)) { context, begin, end in
            let j = context.assumingMemoryBound(to: NormJob.self).pointee
            _ = t5k_rms_norm_avx512(j.x, j.dim, j.weight, j.eps, j.y, begin, end)
        }
    }
}
