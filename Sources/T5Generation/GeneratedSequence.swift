// What a generation returns, and the hooks a caller can pass to watch or stop it.

/// Why a sequence stopped.
public enum FinishReason: String, Sendable, Equatable, Codable {
    /// The model produced EOS.
    case eos
    /// `maxNewTokens` was reached.
    case length
    /// A stop string appeared in the text.
    case stop
    /// The caller cancelled.
    case cancelled
}

/// One output sequence of one prompt.
public struct GeneratedSequence: Sendable, Equatable {
    /// New tokens, without the decoder start token; ends with EOS when `finishReason == .eos`.
    public var tokens: [Int]
    public var finishReason: FinishReason
    /// Beam search: the length-penalised sum of log-probabilities (transformers' `sequences_scores`).
    public var score: Float?
    /// With `GenerationOptions.logprobs`: one entry per generated token, in order; forced `prefix` tokens have
    /// none, so entry `i` belongs to `tokens[prefix.count + i]`. Nil when not asked for.
    public var logprobs: [TokenLogprob]? = nil

    public init(tokens: [Int], finishReason: FinishReason, score: Float?, logprobs: [TokenLogprob]? = nil) {
        self.tokens = tokens
        self.finishReason = finishReason
        self.score = score
        self.logprobs = logprobs
    }
}

/// Callbacks run synchronously on the decoding thread. All optional.
public struct GenerationHooks {
    /// Called for each new token of a row (greedy and sampling; beam search reports only final sequences).
    public var onToken: ((_ row: Int, _ token: Int) -> Void)?
    /// Asked after each token; true ends that row with `.stop` (stop strings are built on this).
    public var shouldStop: ((_ row: Int, _ tokens: [Int]) -> Bool)?
    /// Asked before each step; true ends every row with `.cancelled`.
    public var isCancelled: (() -> Bool)?

    public init(onToken: ((Int, Int) -> Void)? = nil, shouldStop: ((Int, [Int]) -> Bool)? = nil,
                isCancelled: (() -> Bool)? = nil) {
        self.onToken = onToken
        self.shouldStop = shouldStop
        self.isCancelled = isCancelled
    }
}
