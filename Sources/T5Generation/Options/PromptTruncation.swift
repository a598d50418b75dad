// What happens to a prompt longer than `GenerationOptions.maxPromptTokens`: refused, or cut as Hugging Face
// tokenizers cut it (`truncation_side`), keeping the final EOS.

public enum PromptTruncation: String, Sendable, Equatable, Codable, CaseIterable {
    /// Refuse the prompt with `GenerationError.promptTooLong`.
    case error
    /// Drop tokens from the start (keep the end of the prompt, e.g. the question after a long context).
    case left
    /// Drop tokens from the end (before the EOS).
    case right
}

extension GenerationOptions {
    /// `ids` within `maxPromptTokens`: unchanged when short enough or when no limit is set; otherwise refused or cut
    /// per `truncation`. A prompt ending with `eos` keeps its EOS (tokenizers add it after truncating).
    public func limitPrompt(_ ids: [Int], eos: Int, prompt index: Int = 0) throws -> [Int] {
        guard let limit = maxPromptTokens, ids.count > limit else { return ids }
        switch truncation {
        case .error: throw GenerationError.promptTooLong(prompt: index, tokens: ids.count, limit: limit)
        case .left, .right:
            let endsWithEOS = ids.last == eos
            let body = endsWithEOS ? ids.dropLast() : ids[...]
            let keep = limit - (endsWithEOS ? 1 : 0)
            let kept = truncation == .left ? Array(body.suffix(keep)) : Array(body.prefix(keep))
            return kept + (endsWithEOS ? [eos] : [])
        }
    }
}
