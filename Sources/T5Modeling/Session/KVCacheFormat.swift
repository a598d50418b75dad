// How a decoding session stores its self-attention keys and values. Compute stays f32 in every format.

public enum KVCacheFormat: String, Sendable, CaseIterable {
    /// As computed: decoding is exactly what transformers computes.
    case f32
    /// IEEE half precision (values beyond ±65504 saturate); half the memory.
    case f16
    /// Symmetric int8 with one f32 scale per position and head (its largest |value| maps to 127); about a quarter.
    case int8

    /// Bytes of one cached element.
    var elementBytes: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .int8: return 1
        }
    }

    /// Bytes one row's cache holds per decoder step and layer: keys and values, with their scales for int8.
    func bytesPerStepAndLayer(innerDim: Int, heads: Int) -> Int {
        let data = 2 * innerDim * elementBytes, scales = self == .int8 ? 2 * heads * 4 : 0
        return data + scales
    }
}
