// Numerically stable softmax over one row of attention scores, 16 lanes at a time.

/// In-place softmax over `n` scores. Entries equal to `-infinity` (masked keys) get exactly zero weight.
/// At least one score must be finite; callers guarantee one unmasked key.
@inline(__always)
package func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    let raw = UnsafeMutableRawPointer(x)
    var i = 0
    var mv = SIMD16<Float>(repeating: -.infinity)
    while i + 16 <= n {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        mv.replace(with: v, where: v .> mv)  // `pointwiseMax` stayed an out-of-line call in a profiled build
        i += 16
    }
    var m = mv.max()
    while i < n { m = max(m, x[i]); i += 1 }

    exponentiateAndNormalize(x, count: n, max: m)
}

/// `x += bias`, then softmax, in place: the bias is added in the pass that finds the maximum (one pass fewer over the
/// encoder's `L × L` scores per head). Same arithmetic as `add` followed by `softmax`.
@inline(__always)
package func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int, adding bias: UnsafePointer<Float>) {
    let raw = UnsafeMutableRawPointer(x), braw = UnsafeRawPointer(bias)
    var i = 0
    var mv = SIMD16<Float>(repeating: -.infinity)
    while i + 16 <= n {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            + braw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        raw.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        mv.replace(with: v, where: v .> mv)
        i += 16
    }
    var m = mv.max()
    while i < n { x[i] += bias[i]; m = max(m, x[i]); i += 1 }

    exponentiateAndNormalize(x, count: n, max: m)
}

/// The second half of both softmaxes: `x[i] = exp(x[i] - m)`, then each divided by their sum.
@inline(__always)
private func exponentiateAndNormalize(_ x: UnsafeMutablePointer<Float>, count n: Int, max m: Float) {
    let raw = UnsafeMutableRawPointer(x)
    let mb = SIMD16<Float>(repeating: m)
    var sv = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let e = exp16(raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) - mb)
        raw.storeBytes(of: e, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        sv += e
        i += 16
    }
    var sum = sv.sum()
    while i < n { let e = exp1(x[i] - m); x[i] = e; sum += e; i += 1 }

    scale(x, by: 1 / sum, count: n)
}
