// Per-token log-probabilities of generated output (`GenerationOptions.logprobs`), as transformers'
// `compute_transition_scores` gives them.

/// One generated token's log-probability under the distribution it was chosen from, and the most likely
/// tokens at that step. Greedy and sampling: log-softmax of the scores after the logits processors (and, when
/// sampling, the warpers), transformers' `compute_transition_scores(..., normalize_logits=True)`. Beam search:
/// the beam's log-softmax after the processors, without the beam's running score (transformers' beam
/// transition scores, `normalize_logits=False`); their sum over a sequence divided by `length ** lengthPenalty`
/// is the sequence's `score`.
public struct TokenLogprob: Sendable, Equatable, Codable {
    /// A token and its log-probability at one step.
    public struct Alternative: Sendable, Equatable, Codable {
        public var id: Int
        public var logprob: Float

        public init(id: Int, logprob: Float) {
            self.id = id
            self.logprob = logprob
        }
    }

    /// The generated token.
    public var id: Int
    public var logprob: Float
    /// The `logprobs` most likely tokens at this step, most likely first (equal ones: lower id first). Tokens a
    /// processor ruled out (probability 0) are left out, so there can be fewer.
    public var top: [Alternative]

    public init(id: Int, logprob: Float, top: [Alternative]) {
        self.id = id
        self.logprob = logprob
        self.top = top
    }
}
