// How the kernels of PackedMatmul.swift read weights: f32 as stored, or narrower (int8 with per-row scales, bf16, f16)
// widened exactly to f32 16 lanes at a time. The kernels are specialised per format through `PackedElements`.
import T5Tensor

// MARK: Widening, one format per type so that every kernel is specialised for its format.

package protocol PackedElements {
    static var bytes: Int { get }
    /// Elements `i..<i+16` of `p` as f32.
    static func load16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float>
    /// Element `i` of `p` as f32.
    static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float
}

package enum F32Elements: PackedElements {
    package static var bytes: Int { 4 }
    @inline(__always) package static func load16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        p.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
    }
    @inline(__always) package static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        p.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
    }
}

package enum Int8Elements: PackedElements {
    package static var bytes: Int { 1 }
    @inline(__always) package static func load16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        widenInt8(p.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self))
    }
    @inline(__always) package static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        Float(p.load(fromByteOffset: i, as: Int8.self))
    }
}

package enum BF16Elements: PackedElements {
    package static var bytes: Int { 2 }
    /// bfloat16 is the top half of an f32.
    @inline(__always) package static func load16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        unsafeBitCast(halfBits16(p, i) &<< 16, to: SIMD16<Float>.self)
    }
    @inline(__always) package static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        FloatWidening.float(fromBF16: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

package enum F16Elements: PackedElements {
    package static var bytes: Int { 2 }
    /// IEEE binary16 to binary32, exact for every value, with integer arithmetic only (no masks, no branches):
    /// normal numbers get their exponent rebiased (+112); infinities and NaNs get it raised to all ones; subnormals are
    /// `2^-14·(1 + m/1024) - 2^-14`, a subtraction of normal floats. Not F16C (`vcvtph2ps`), a float-multiply rebias
    /// or a mask select: each was much slower on checkpoints with subnormal weights, as real f16 files have, or on the
    /// mask handling (PERFORMANCE.md, "f16 widening without F16C").
    @inline(__always) package static func load16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<Float> {
        let w = halfBits16(p, i)
        let magnitude = (w & 0x7FFF) &<< 13
        let sign = (w & 0x8000) &<< 16
        let infOrNaN = (magnitude &+ 0x0080_0000) &>> 28            // 1 when the half exponent is 31
        let subnormal = ((magnitude &>> 23) &- 1) &>> 31            // 1 when the half exponent is 0
        let normalBits = magnitude &+ (112 << 23) &+ infOrNaN &* (112 << 23)
        let subnormalValue = unsafeBitCast(magnitude | (113 << 23), to: SIMD16<Float>.self) - 0x1p-14
        let subnormalBits = unsafeBitCast(subnormalValue, to: SIMD16<UInt32>.self)
        let bits = normalBits ^ ((normalBits ^ subnormalBits) & (0 &- subnormal))
        return unsafeBitCast(bits | sign, to: SIMD16<Float>.self)
    }
    @inline(__always) package static func load1(_ p: UnsafeRawPointer, _ i: Int) -> Float {
        FloatWidening.float(fromF16: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
    }
}

/// 16-bit elements `i..<i+16` of `p`, zero-extended to 32-bit lanes (lane by lane: the loop vectorises to one
/// zero-extending move).
@inline(__always)
private func halfBits16(_ p: UnsafeRawPointer, _ i: Int) -> SIMD16<UInt32> {
    let h = p.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)
    var w = SIMD16<UInt32>()
    for k in 0..<16 { w[k] = UInt32(h[k]) }
    return w
}

/// Widens 16 int8 lanes to f32. Lane by lane on purpose: the generic SIMD conversions
/// (`SIMD16<Int32>(truncatingIfNeeded:)`, `SIMD16<Float>(_:)`) stayed out-of-line calls in a profiled release
/// build, while this loop is vectorised to a sign-extend and a convert (PERFORMANCE.md, "int8 widening helper").
@inline(__always)
package func widenInt8(_ v: SIMD16<Int8>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}
