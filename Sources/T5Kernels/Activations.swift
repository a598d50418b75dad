// Feed-forward activations, applied in place, and the gate product of gated variants.
import CT5Kernels
import Foundation

/// The feed-forward activation, from `feed_forward_proj` (`"relu"`, `"gated-gelu"`, …).
public enum T5Activation: String, Sendable, Equatable {
    case relu
    /// Exact GELU with erf (`"gelu"` in transformers' ACT2FN).
    case gelu
    /// The tanh approximation (`gelu_new`); transformers maps `"gated-gelu"` to it.
    case geluTanh = "gelu_new"
    case silu
}

/// Applies `activation` to `n` values in place.
@inline(__always)
package func activate(_ x: UnsafeMutablePointer<Float>, count n: Int, _ activation: T5Activation) {
    switch activation {
    case .relu:
        for i in 0..<n { x[i] = max(x[i], 0) }
    case .gelu:
        // Exact GELU: x·Φ(x) with erf (original-T5 configs with `gelu` are rare; libm is fine here).
        for i in 0..<n { x[i] = 0.5 * x[i] * (1 + erf(x[i] * 0.70710678118654752)) }
    case .geluTanh:
        // gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written as x·sigmoid(2·√(2/π)·(x + 0.044715·x³))
        // (the same function: 0.5·(1 + tanh z) = sigmoid(2z)) so that it vectorises through exp16.
        let c: Float = 2 * 0.7978845608028654
        mapInPlace(x, count: n) { v in v * sigmoid16(c * (v + 0.044715 * v * v * v)) }
    case .silu:
        mapInPlace(x, count: n) { v in v * sigmoid16(v) }
    }
}

/// Gated feed-forward in one pass: row `r` of `pair` holds `[wi_0·h | wi_1·h]` (`2 * width` values); afterwards the
/// first `rows * width` values of `pair` are `act(wi_0·h) * (wi_1·h)`, rows packed `width` apart (the `wo` input).
/// Rows go in increasing order, so each write lands where everything has already been read.
package func gatedActivate(_ pair: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ activation: T5Activation) {
    switch activation {
    case .relu: gatedRows(pair, rows: rows, width: width) { v in v.replacing(with: 0, where: v .< 0) }
    case .gelu:
        gatedRows(pair, rows: rows, width: width) { v in
            var r = v
            for i in 0..<16 { r[i] = 0.5 * v[i] * (1 + erf(v[i] * 0.70710678118654752)) }
            return r
        }
    case .geluTanh:
        let c: Float = 2 * 0.7978845608028654
        gatedRows(pair, rows: rows, width: width) { v in v * sigmoid16(c * (v + 0.044715 * v * v * v)) }
    case .silu: gatedRows(pair, rows: rows, width: width) { v in v * sigmoid16(v) }
    }
}

private struct GatedJob {
    let pair: UnsafeMutablePointer<Float>
    let width: Int
    let activation: Int32
}

/// The encoder's gated pass: on AVX-512 machines split across `pool`, each row's result left in place in the first
/// half of its row; elsewhere `gatedActivate` above, rows packed `width` apart. Returns where the result rows are:
/// the floats between consecutive ones (`2 * width` or `width`), for the `wo` product to read.
package func gatedActivate(
    _ pair: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ activation: T5Activation, pool: WorkerPool
) -> Int {
    guard pool.instructionSet == .avx512, let code = activation.kernelCode else {
        gatedActivate(pair, rows: rows, width: width, activation)
        return width
    }
    var job = GatedJob(pair: pair, width: width, activation: code)
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: rows, chunk: 8, context: UnsafeRawPointer(p)) { context, begin, end in
            let j = context.assumingMemoryBound(to: GatedJob.self).pointee
            _ = t5k_gated_avx512(j.pair, j.width, j.activation, begin, end)
        }
    }
    return 2 * width
}

@inline(__always)
private func gatedRows(_ pair: UnsafeMutablePointer<Float>, rows: Int, width w: Int, _ f: (SIMD16<Float>) -> SIMD16<Float>) {
    let raw = UnsafeMutableRawPointer(pair)
    for r in 0..<rows {
        let a = 2 * r * w, g = a + w, out = r * w
        var j = 0
        while j + 16 <= w {
            let v = raw.loadUnaligned(fromByteOffset: 4 * (a + j), as: SIMD16<Float>.self)
            let gate = raw.loadUnaligned(fromByteOffset: 4 * (g + j), as: SIMD16<Float>.self)
            raw.storeBytes(of: f(v) * gate, toByteOffset: 4 * (out + j), as: SIMD16<Float>.self)
            j += 16
        }
        if j < w {
            var v = SIMD16<Float>(), gate = SIMD16<Float>()
            for i in j..<w { v[i - j] = pair[a + i]; gate[i - j] = pair[g + i] }
            let y = f(v) * gate
            for i in j..<w { pair[out + i] = y[i - j] }
        }
    }
}

/// `x[i] = f(x[i])` 16 lanes at a time; the tail goes through the same function on a padded vector.
@inline(__always)
private func mapInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int, _ f: (SIMD16<Float>) -> SIMD16<Float>) {
    let raw = UnsafeMutableRawPointer(x)
    var i = 0
    while i + 16 <= n {
        raw.storeBytes(of: f(raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)), toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    if i < n {
        var v = SIMD16<Float>()
        for j in i..<n { v[j - i] = x[j] }
        let r = f(v)
        for j in i..<n { x[j] = r[j - i] }
    }
}

/// `a *= b`, elementwise: the gate of gated feed-forward (`act(wi_0·h) * (wi_1·h)`).
@inline(__always)
package func multiply(_ a: UnsafeMutablePointer<Float>, by b: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n { a[i] *= b[i] }
}

/// `a = act(a) * g` over `n` values: a decode step's gated feed-forward, wi_0·h and wi_1·h in separate rows. On AVX-512
/// one pass in C (the encoder's gated kernel over two arrays); elsewhere `activate`, then `multiply`. The portable pair
/// was 0.7 % of a batch-8 int8 decode step, serial while the other threads waited (PERFORMANCE.md, "Serial parts of a
/// decode step in C").
package func gate(_ a: UnsafeMutablePointer<Float>, by g: UnsafePointer<Float>, count n: Int, _ activation: T5Activation,
                  level: InstructionSet) {
    if level == .avx512, let code = activation.kernelCode, t5k_gate_avx512(a, g, n, code) != 0 { return }
    activate(a, count: n, activation)
    multiply(a, by: g, count: n)
}

/// `a *= s`, elementwise.
@inline(__always)
package func scale(_ a: UnsafeMutablePointer<Float>, by s: Float, count n: Int) {
    for i in 0..<n { a[i] *= s }
}

/// `a += b`, elementwise (position bias onto a row of attention scores).
@inline(__always)
package func add(_ b: UnsafePointer<Float>, to a: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { a[i] += b[i] }
}

extension T5Activation {
    /// The activation's code in the C gated kernels (`T5K_ACT_*`); nil for exact GELU, which they do not have.
    fileprivate var kernelCode: Int32? {
        switch self {
        case .relu: Int32(T5K_ACT_RELU)
        case .geluTanh: Int32(T5K_ACT_GELU_TANH)
        case .silu: Int32(T5K_ACT_SILU)
        case .gelu: nil
        }
    }
}
