// Why a `config.json` could not be used.

public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case noSuchModelFolder(path: String)
    case notAModelFolder(path: String)
    case unreadable(path: String, reason: String)
    case notJSON(path: String, reason: String)
    case missingField(path: String, field: String)
    case invalidField(path: String, field: String, reason: String)
    case outOfRange(path: String, field: String, value: String, allowed: String)
    case unsupported(path: String, field: String, value: String)
    /// The folder's tokenizer has ids the model's embedding table does not.
    case tokenizerMismatch(path: String, tokenizerIds: Int, vocabSize: Int)

    public var description: String {
        switch self {
        case .missingFile(let path): return "\(path): no such config file"
        case .noSuchModelFolder(let path): return "\(path): no such model folder"
        case .notAModelFolder(let path): return "\(path): is a file; give the model folder that holds config.json and the weights"
        case .unreadable(let path, let reason): return "\(path): cannot read config: \(reason)"
        case .notJSON(let path, let reason): return "\(path): not a valid JSON config object: \(reason)"
        case .missingField(let path, let field): return "\(path): required field '\(field)' is missing"
        case .invalidField(let path, let field, let reason): return "\(path): field '\(field)' has the wrong type: \(reason)"
        case .outOfRange(let path, let field, let value, let allowed):
            return "\(path): '\(field)' is \(value), allowed \(allowed)"
        case .unsupported(let path, let field, let value): return "\(path): unsupported \(field) '\(value)'"
        case .tokenizerMismatch(let path, let ids, let vocab):
            return "\(path): the tokenizer has \(ids) ids, more than the model's vocab_size \(vocab)"
        }
    }
}
