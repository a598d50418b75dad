// The weight formats `t5 convert` writes, and how one f32 value is narrowed to a half-width format.

public enum ConvertDType: String, Sendable, CaseIterable {
    /// Every tensor as F32.
    case f32
    /// Matrices as F16 (norms and position biases stay F32); widened to f32 at load, computed in f32.
    case f16
    /// Matrices as BF16, likewise.
    case bf16
    /// Linear layers, lm_head and the embedding as I8 with an F32 `<name>_scale` per output row.
    case int8

    /// IEEE binary16 bits of `x`, rounded to nearest even; overflow gives infinity.
    static func f16Bits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    /// bfloat16 bits of `x`: the top half of the f32, rounded to nearest even; NaN stays a (quiet) NaN.
    static func bf16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
