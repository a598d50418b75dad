// Why the model refused a request: bad prompts or tokens, a request too large for its memory limit, a misused session.

public enum RequestError: Error, Equatable, CustomStringConvertible {
    case emptyBatch
    case emptyPrompt(row: Int)
    case tokenOutOfRange(row: Int, position: Int, id: Int, vocabularySize: Int)
    case tooLarge(bytes: Int, limit: Int, what: String)
    case stepLimitReached(limit: Int)
    /// A session call with an argument that does not fit the session (row ids, token counts, sizes).
    case invalidArgument(name: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .emptyBatch: return "the batch holds no prompt"
        case .emptyPrompt(let row): return "prompt \(row) is empty (it needs at least one token, e.g. EOS)"
        case .tokenOutOfRange(let row, let position, let id, let vocab):
            return "prompt \(row), position \(position): token id \(id) is outside the vocabulary 0..<\(vocab) of this model (its config.json vocab_size)"
        case .tooLarge(let bytes, let limit, let what):
            return "\(what) would need \(Self.size(bytes)) of working memory, over the limit of \(Self.size(limit))"
        case .stepLimitReached(let limit): return "decoding already ran the \(limit) steps this session was sized for"
        case .invalidArgument(let name, let value, let reason): return "\(name) = \(value): \(reason)"
        }
    }

    /// MiB, or KiB below one MiB (so small limits do not read "0 MiB").
    private static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes / 1_048_576) MiB" : "\(bytes / 1024) KiB"
    }
}
