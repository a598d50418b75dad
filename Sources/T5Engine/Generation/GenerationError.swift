// Why a generation request was refused or stopped.

public enum GenerationError: Error, Equatable, CustomStringConvertible {
    case emptyBatch
    case emptyPrompt(row: Int)
    case tokenOutOfRange(row: Int, position: Int, id: Int, vocabularySize: Int)
    case invalidOption(name: String, value: String, reason: String)
    case tooLarge(bytes: Int, limit: Int, what: String)
    case stepLimitReached(limit: Int)
    case nonFiniteLogits(row: Int, step: Int)

    public var description: String {
        switch self {
        case .emptyBatch: return "the batch holds no prompt"
        case .emptyPrompt(let row): return "prompt \(row) is empty (it needs at least one token, e.g. EOS)"
        case .tokenOutOfRange(let row, let position, let id, let vocab):
            return "prompt \(row), position \(position): token id \(id) is outside the vocabulary 0..<\(vocab)"
        case .invalidOption(let name, let value, let reason): return "option \(name) = \(value): \(reason)"
        case .tooLarge(let bytes, let limit, let what):
            return "\(what) would need \(bytes / 1_048_576) MiB of working memory, over the limit of \(limit / 1_048_576) MiB"
        case .stepLimitReached(let limit): return "decoding already ran the \(limit) steps this session was sized for"
        case .nonFiniteLogits(let row, let step):
            return "the model produced NaN or infinite logits (row \(row), step \(step)): the weights are likely corrupt"
        }
    }
}
