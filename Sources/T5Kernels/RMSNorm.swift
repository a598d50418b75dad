// T5's layer norm: scale by the root mean square only; no mean subtraction, no bias.
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
