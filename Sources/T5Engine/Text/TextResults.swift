// Results of the text-level API: generated text with its tokens and timings, and CoT answers.

public struct GenerationTimings: Sendable, Equatable, Codable {
    /// Tokenizing the prompt(s).
    public var tokenizeMs: Double
    /// Encoder, decoding and detokenizing.
    public var generateMs: Double
    /// Generated tokens (all rows) per second of `generateMs`.
    public var tokensPerSecond: Double
}

/// One prompt's output.
public struct Generation: Sendable, Equatable {
    /// The best sequence's text, special tokens removed.
    public var text: String
    /// The best sequence's tokens (no decoder start; EOS included when produced).
    public var tokens: [Int]
    public var finishReason: FinishReason
    /// Beam score of the best sequence, when beam search ran.
    public var score: Float?
    /// Every returned sequence (`numReturnSequences`), best first for beam search, with its text.
    public var sequences: [(text: String, sequence: GeneratedSequence)]
    public var promptTokens: Int
    public var timings: GenerationTimings

    public static func == (a: Generation, b: Generation) -> Bool {
        a.text == b.text && a.tokens == b.tokens && a.finishReason == b.finishReason && a.score == b.score
            && a.sequences.map(\.text) == b.sequences.map(\.text) && a.sequences.map(\.sequence) == b.sequences.map(\.sequence)
            && a.promptTokens == b.promptTokens
    }
}

/// A chain-of-thought answer: the reasoning, the extracted answer, and (self-consistency) the votes.
public struct ReasonedAnswer: Sendable, Equatable {
    /// The prompt given to the model (after the CoT template or exemplars).
    public var prompt: String
    /// Reasoning of the winning path (text before "So the answer is").
    public var reasoning: String
    public var answer: String
    /// How many paths gave `answer`, out of `paths.count` (1 without self-consistency).
    public var votes: Int
    /// Full text of every path generated.
    public var paths: [String]
    /// Exemplars kept in a few-shot prompt after fitting the input budget.
    public var exemplarsUsed: Int
    public var promptTokens: Int
    public var generatedTokens: Int
    public var timings: GenerationTimings
}
