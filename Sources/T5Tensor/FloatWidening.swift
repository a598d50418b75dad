// Exact bit-level conversions of little-endian f16 / bf16 / f32 tensor bytes to host f32.
// Done by hand so results are identical on every platform (Float16 is missing on macOS x86_64) and NaN payloads survive.

package enum FloatWidening {
    /// IEEE binary16 to binary32; every f16 value, subnormals, infinities and NaN payloads included, is exact.
    package static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2^-24, exact in f32 because 2^-24 is a normal f32.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            // Rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// bfloat16 is the top half of an f32.
    package static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The element formats `widen` reads; all little-endian, as safetensors stores them.
    package enum Source {
        case f16, bf16, f32
    }

    /// Reads `count` elements (any alignment) into a new buffer.
    package static func widen(_ bytes: UnsafeRawBufferPointer, from source: Source, count: Int) -> OwnedFloatBuffer {
        let output = OwnedFloatBuffer(count: count)
        let target = output.pointer
        switch source {
        case .f16:
            for i in 0..<count {
                target[i] = float(fromF16: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<count {
                target[i] = float(fromBF16: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .f32:
            for i in 0..<count {
                target[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        }
        return output
    }
}
