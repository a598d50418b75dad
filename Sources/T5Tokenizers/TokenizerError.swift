// Every way loading a tokenizer (or encoding raw bytes) can fail, each naming the file and the problem.
import Foundation

public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// Nothing at this path, or a directory without `tokenizer.json` / `spiece.model`.
    case fileNotFound(path: String)
    case unreadableFile(path: String, reason: String)
    /// `tokenizer.json` is not JSON, or lacks / mistypes a field the pipeline needs.
    case malformedTokenizerJSON(path: String, reason: String)
    /// A pipeline stage (model, normalizer, pre-tokenizer, decoder, post-processor) we do not implement.
    case unsupportedComponent(path: String, component: String, detail: String)
    case emptyVocabulary(path: String)
    case invalidUnknownTokenId(path: String, id: Int?, vocabularySize: Int)
    /// The Precompiled normalizer blob (nmt_nfkc charsmap) is truncated or its trie is inconsistent.
    case malformedCharsMap(path: String, reason: String)
    /// `spiece.model` protobuf is truncated or inconsistent.
    case malformedSentencePieceModel(path: String, reason: String)
    case missingSpecialToken(path: String, token: String)
    /// Raw bytes given to `encode(utf8:)` are not valid UTF-8.
    case invalidUTF8(byteOffset: Int)
    case missingBundledVocabulary(reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file, or a directory without tokenizer.json or spiece.model"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read file: \(reason)"
        case .malformedTokenizerJSON(let path, let reason):
            return "\(path): not a valid tokenizer.json: \(reason)"
        case .unsupportedComponent(let path, let component, let detail):
            return "\(path): unsupported \(component): \(detail)"
        case .emptyVocabulary(let path):
            return "\(path): the vocabulary is empty"
        case .invalidUnknownTokenId(let path, let id, let size):
            let shown = id.map(String.init) ?? "none"
            return "\(path): unknown-token id \(shown) is not in the vocabulary of \(size) pieces"
        case .malformedCharsMap(let path, let reason):
            return "\(path): malformed precompiled_charsmap: \(reason)"
        case .malformedSentencePieceModel(let path, let reason):
            return "\(path): malformed SentencePiece model: \(reason)"
        case .missingSpecialToken(let path, let token):
            return "\(path): the vocabulary has no \(token) token"
        case .invalidUTF8(let offset):
            return "input is not valid UTF-8 (first bad byte at offset \(offset))"
        case .missingBundledVocabulary(let reason):
            return "the bundled T5 vocabulary is missing: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
