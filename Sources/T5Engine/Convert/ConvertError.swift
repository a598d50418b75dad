// What can go wrong while converting a model folder to another weight format.

public enum ConvertError: Error, Equatable, CustomStringConvertible {
    case sameAsInput(path: String)
    case outputExists(path: String)
    case nonFiniteWeight(tensor: String)
    case unsupportedTensor(tensor: String, dtype: String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .sameAsInput(let path):
            "output folder \(path) is the input folder; converting in place would destroy the input"
        case .outputExists(let path):
            "output \(path) already exists and is not an empty folder; remove it or choose another --out"
        case .nonFiniteWeight(let tensor):
            "tensor \(tensor) holds NaN or infinite values and cannot be quantised"
        case .unsupportedTensor(let tensor, let dtype):
            "tensor \(tensor) has dtype \(dtype), which the converter does not read"
        case .io(let path, let reason):
            "cannot write \(path): \(reason)"
        }
    }
}
