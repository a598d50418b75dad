// Why a generation request was refused or stopped (prompt and memory checks are the model's `RequestError`).

public enum GenerationError: Error, Equatable, CustomStringConvertible {
    case invalidOption(name: String, value: String, reason: String)
    case nonFiniteLogits(row: Int, step: Int)

    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let reason): return "option \(name) = \(value): \(reason)"
        case .nonFiniteLogits(let row, let step):
            return "the model produced NaN or infinite logits (row \(row), step \(step)): the weights are likely corrupt"
        }
    }
}
