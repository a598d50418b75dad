// e^x for 16 lanes at once, the building block of softmax and the GELU/SiLU activations.
// libm's expf/tanhf are scalar calls, millions of them per long prompt in the encoder (PERFORMANCE.md, "SIMD exp").

/// `e^x` lane by lane, within about 2 ulp of the exact value for `x` in [-87.3, 88.3]
/// (Cephes' expf: `x = n·ln2 + r`, |r| ≤ ln2/2, a degree-7 polynomial in `r`, then `2^n` through the exponent bits).
/// Lanes below -87.3 (and -infinity) give exactly 0; lanes above 88.3 give +infinity; NaN stays NaN.
@inline(__always)
package func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let lo: Float = -87.3, hi: Float = 88.3
    // Clamp with masks: `clamped(lowerBound:upperBound:)` stayed an out-of-line call in a profiled build.
    var v = x
    v.replace(with: lo, where: x .< lo)
    v.replace(with: hi, where: x .> hi)
    // n = round(v / ln2): adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
    let shifter: Float = 12_582_912
    let t = v * 1.442_695_04 + shifter
    let n = t - shifter
    // r = v - n·ln2, with ln2 split in two so that n·ln2_hi is exact.
    var r = v - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    var p = SIMD16<Float>(repeating: 1.987_569_1e-4)
    p = p * r + 1.398_199_9e-3
    p = p * r + 8.333_452e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_5e-1
    p = p * r + 5.000_000_1e-1
    p = p * (r * r) + r + 1
    // 2^n: the integer n sits in t's low bits (t's bits = 0x4B40_0000 + n); move it into the exponent field.
    let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self) &+ SIMD16(repeating: UInt32(127) &- 0x4B40_0000)
    let scale = unsafeBitCast(bits &<< 23, to: SIMD16<Float>.self)
    var result = p * scale
    result.replace(with: 0, where: x .< lo)
    result.replace(with: .infinity, where: x .> hi)
    result.replace(with: x, where: x .!= x)
    return result
}

/// `e^x` for one value through the same approximation, for loop tails (so every element agrees with `exp16`).
@inline(__always)
package func exp1(_ x: Float) -> Float {
    exp16(SIMD16(repeating: x))[0]
}

/// `1 / (1 + e^-x)`, lane by lane.
@inline(__always)
package func sigmoid16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    1 / (1 + exp16(-x))
}

/// `a + b·c` lane by lane: one fused multiply-add when the build targets a CPU with FMA (`T5_TARGET_CPU`, an
/// AVX-512 or x86-64-v3+ target). Without a target flag the fused form would become a libm `fmaf` call per lane, so
/// the portable build multiplies and adds.
@inline(__always)
package func muladd(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
    #if T5_TARGET_CPU_SET
    a.addingProduct(b, c)
    #else
    a + b * c
    #endif
}

/// `SIMD4(a.sum(), b.sum(), c.sum(), d.sum())`, folding the four vectors together: about half the shuffles of four
/// separate reductions, which matter when each dot product is only a few dozen vectors long.
@inline(__always)
package func sums(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>, _ d: SIMD16<Float>) -> SIMD4<Float> {
    // Halve each vector, then pair them up so that each later addition serves two of the four sums.
    let ab = SIMD16(lowHalf: a.lowHalf + a.highHalf, highHalf: b.lowHalf + b.highHalf)
    let cd = SIMD16(lowHalf: c.lowHalf + c.highHalf, highHalf: d.lowHalf + d.highHalf)
    // ab holds a's 8 partial sums then b's; fold each 8 into 4, then 4 into 2, 2 into 1.
    let abcd = SIMD16(lowHalf: fold8(ab.lowHalf, ab.highHalf), highHalf: fold8(cd.lowHalf, cd.highHalf))
    // abcd: a's 4 partial sums, b's 4, c's 4, d's 4.
    let x = abcd.evenHalf + abcd.oddHalf   // a a b b c c d d (pairwise)
    return x.evenHalf + x.oddHalf          // a b c d
}

/// Two 8-lane partial-sum vectors folded to 4 lanes each: `SIMD8(p.lowHalf + p.highHalf, q.lowHalf + q.highHalf)`.
@inline(__always)
private func fold8(_ p: SIMD8<Float>, _ q: SIMD8<Float>) -> SIMD8<Float> {
    SIMD8(lowHalf: p.lowHalf, highHalf: q.lowHalf) + SIMD8(lowHalf: p.highHalf, highHalf: q.highHalf)
}
