// Feed-forward activations, applied in place, and the gate product of gated variants.
import Foundation

/// Applies `activation` to `n` values in place.
@inline(__always)
func activate(_ x: UnsafeMutablePointer<Float>, count n: Int, _ activation: T5Activation) {
    switch activation {
    case .relu:
        for i in 0..<n { x[i] = max(x[i], 0) }
    case .gelu:
        // Exact GELU: x·Φ(x) with erf.
        for i in 0..<n { x[i] = 0.5 * x[i] * (1 + erf(x[i] * 0.70710678118654752)) }
    case .geluTanh:
        // gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
        let c: Float = 0.7978845608028654
        for i in 0..<n {
            let v = x[i]
            x[i] = 0.5 * v * (1 + tanh(c * (v + 0.044715 * v * v * v)))
        }
    case .silu:
        for i in 0..<n { x[i] = x[i] / (1 + exp(-x[i])) }
    }
}

/// `a *= b`, elementwise: the gate of gated feed-forward (`act(wi_0·h) * (wi_1·h)`).
@inline(__always)
func multiply(_ a: UnsafeMutablePointer<Float>, by b: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n { a[i] *= b[i] }
}

/// `a *= s`, elementwise.
@inline(__always)
func scale(_ a: UnsafeMutablePointer<Float>, by s: Float, count n: Int) {
    for i in 0..<n { a[i] *= s }
}
