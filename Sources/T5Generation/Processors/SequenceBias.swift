// Additive biases on token sequences: logit bias (one token), and banned word sequences (bias -inf), as
// transformers' `SequenceBiasLogitsProcessor` and `NoBadWordsLogitsProcessor` apply them.

/// A bias added to the score of `tokens.last` whenever the output so far ends with the rest of `tokens`
/// (a one-token sequence: at every step).
public struct SequenceBias: Sendable, Equatable, Hashable {
    public var tokens: [Int]
    public var bias: Float

    public init(tokens: [Int], bias: Float) {
        self.tokens = tokens
        self.bias = bias
    }
}

/// Adds each sequence's bias to its last token when the decoder input ends with the sequence's other tokens
/// (the decoder start token counts, as in transformers). Biases of several matching sequences add up; a sequence
/// listed twice counts once, with its last bias (transformers keeps them in a dict).
public struct SequenceBiasProcessor: LogitsProcessor {
    /// One-token sequences, applied at every step.
    private let single: [(token: Int, bias: Float)]
    /// Longer sequences, applied when their prefix matches.
    private let multi: [SequenceBias]

    public init(_ biases: [SequenceBias]) {
        var last: [[Int]: Float] = [:]
        var order: [[Int]] = []
        for b in biases where !b.tokens.isEmpty {
            if last.updateValue(b.bias, forKey: b.tokens) == nil { order.append(b.tokens) }
        }
        single = order.filter { $0.count == 1 }.map { ($0[0], last[$0]!) }
        multi = order.filter { $0.count > 1 }.map { SequenceBias(tokens: $0, bias: last[$0]!) }
    }

    /// transformers' `bad_words_ids`: every sequence banned (bias -inf), except a lone EOS, which it drops.
    public static func noBadWords(_ sequences: [[Int]], eos: Int) -> SequenceBiasProcessor {
        SequenceBiasProcessor(sequences.filter { $0 != [eos] }.map { SequenceBias(tokens: $0, bias: -.infinity) })
    }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        for (t, b) in single where t >= 0 && t < scores.count { scores[t] += b }
        let sequence = context.sequence
        for s in multi {
            let prefix = s.tokens.count - 1
            guard s.tokens.count <= sequence.count, let t = s.tokens.last, t >= 0, t < scores.count else { continue }
            var matches = true
            for j in 0..<prefix where sequence[sequence.count - prefix + j] != s.tokens[j] { matches = false; break }
            if matches { scores[t] += s.bias }
        }
    }
}
