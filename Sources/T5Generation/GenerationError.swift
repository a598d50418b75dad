// Why a generation request was refused or stopped (prompt and memory checks are the model's `RequestError`).

public enum GenerationError: Error, Equatable, CustomStringConvertible {
    case invalidOption(name: String, value: String, reason: String)
    case nonFiniteLogits(row: Int, step: Int)
    /// `prefixAllowedTokens` allowed no token of the vocabulary for a row of prompt `prompt` at step `step`.
    case constraintUnsatisfiable(prompt: Int, step: Int)
    /// A prompt over `maxPromptTokens` with `truncation == .error`.
    case promptTooLong(prompt: Int, tokens: Int, limit: Int)

    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let reason): return "option \(name) = \(value): \(reason)"
        case .nonFiniteLogits(let row, let step):
            return "the model produced NaN or infinite logits (row \(row), step \(step)): the weights are likely corrupt"
        case .promptTooLong(let prompt, let tokens, let limit):
            return "prompt \(prompt) has \(tokens) tokens, over the limit of \(limit) (maxPromptTokens, --max-prompt-tokens); truncate it (--truncate left|right) or raise the limit"
        case .constraintUnsatisfiable(let prompt, let step):
            return "prefixAllowedTokens allowed no token of the vocabulary for prompt \(prompt) at step \(step): the constraint cannot be met"
        }
    }
}
