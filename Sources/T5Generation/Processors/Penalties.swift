// Processors every strategy applies (greedy, sampling and beam search alike), as transformers defines them.

/// Divides positive scores of tokens already in the sequence by `penalty` and multiplies negative ones
/// (the CTRL penalty, transformers' `RepetitionPenaltyLogitsProcessor`).
public struct RepetitionPenaltyProcessor: LogitsProcessor {
    public let penalty: Float
    private var seen = Set<Int>()

    public init(penalty: Float) { self.penalty = penalty }

    public mutating func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        // Each distinct token once: transformers gathers all scores first, so repeats do not compound.
        seen.removeAll(keepingCapacity: true)
        for t in context.sequence where seen.insert(t).inserted {
            let s = scores[t]
            scores[t] = s < 0 ? s * penalty : s / penalty
        }
    }
}

/// Bans every token that would complete an n-gram of `size` already in the sequence
/// (transformers' `NoRepeatNGramLogitsProcessor`).
public struct NoRepeatNGramProcessor: LogitsProcessor {
    public let size: Int

    public init(size: Int) { self.size = size }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        let n = size, sequence = context.sequence, len = sequence.count
        guard n > 0, len + 1 >= n else { return }
        if n == 1 {
            for t in sequence { scores[t] = -.infinity }
            return
        }
        guard len >= n else { return }
        let prefixStart = len + 1 - n
        for i in 0...(len - n) {
            var matches = true
            for j in 0..<(n - 1) where sequence[i + j] != sequence[prefixStart + j] { matches = false; break }
            if matches { scores[sequence[i + n - 1]] = -.infinity }
        }
    }
}

/// Forbids EOS until `minNewTokens` tokens are generated (transformers' `MinNewTokensLengthLogitsProcessor`).
public struct MinNewTokensProcessor: LogitsProcessor {
    public let minNewTokens: Int
    public let eos: Int

    public init(minNewTokens: Int, eos: Int) {
        self.minNewTokens = minNewTokens
        self.eos = eos
    }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        if context.generated < minNewTokens, eos >= 0, eos < scores.count { scores[eos] = -.infinity }
    }
}
