// The bounds every request is checked against before it reaches the model, so no request can ask for unbounded
// memory or time: tokens per output, choices, rows, prompts per request, prompt length.

public struct ServerLimits: Sendable, Equatable {
    /// Largest `max_tokens` (also the steps each row of the server's decoding session is sized for).
    public var maxTokens: Int = 512
    /// `max_tokens` when a completion request sets none (OpenAI's default is 16).
    public var defaultCompletionTokens: Int = 16
    /// Rows of the shared decoder batch (`--max-batch`): one request's prompts x (beams or samples) must fit.
    public var maxBatch: Int = 16
    /// Largest `n`, `num_beams` and `self_consistency`.
    public var maxChoices: Int = 16
    /// Prompts in one completion request, inputs in one embeddings request, messages in a chat.
    public var maxPrompts: Int = 64
    /// Longest prompt in tokens (EOS included); nil: only the model's memory limit.
    public var maxPromptTokens: Int? = nil
    /// Stop strings per request (OpenAI allows 4).
    public var maxStops: Int = 4
    /// Prompt tokens admitted (encoded) between two decoder steps: a burst of arrivals joins together up to this,
    /// delaying the running requests' next token by those encodings (vLLM's max_num_batched_tokens, in spirit).
    public var maxPrefillTokens: Int = 2048

    public init() {}
}
