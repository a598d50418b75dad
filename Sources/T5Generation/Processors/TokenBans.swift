// Processors that ban tokens outright, everywhere or at the first step (transformers' `suppress_tokens` and
// `begin_suppress_tokens`, Whisper-style).

/// Sets the score of every listed token to -inf at every step (transformers' `SuppressTokensLogitsProcessor`).
public struct SuppressTokensProcessor: LogitsProcessor {
    public let tokens: [Int]

    public init(tokens: [Int]) { self.tokens = tokens }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        for t in tokens where t >= 0 && t < scores.count { scores[t] = -.infinity }
    }
}

/// Sets the score of every listed token to -inf at the first free step only, so an output cannot start with them
/// (transformers' `SuppressTokensAtBeginLogitsProcessor`). `beginIndex` is the number of tokens forced before
/// that step (a forced decoder prefix), 0 without one.
public struct BeginSuppressTokensProcessor: LogitsProcessor {
    public let tokens: [Int]
    public let beginIndex: Int

    public init(tokens: [Int], beginIndex: Int = 0) {
        self.tokens = tokens
        self.beginIndex = beginIndex
    }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        guard context.generated == beginIndex else { return }
        for t in tokens where t >= 0 && t < scores.count { scores[t] = -.infinity }
    }
}

/// At the last step `maxNewTokens` allows, only EOS is left (score 0, every other token -inf), so every output
/// ends with EOS (transformers' `ForcedEOSTokenLogitsProcessor`).
public struct ForcedEOSProcessor: LogitsProcessor {
    public let maxNewTokens: Int
    public let eos: Int

    public init(maxNewTokens: Int, eos: Int) {
        self.maxNewTokens = maxNewTokens
        self.eos = eos
    }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        guard context.generated == maxNewTokens - 1, eos >= 0, eos < scores.count else { return }
        for i in 0..<scores.count { scores[i] = -.infinity }
        scores[eos] = 0
    }
}
