// The encoder's hidden states, for callers that use T5 as a text encoder.

/// Per prompt, the final encoder hidden state of each real token (padding removed).
public struct EncoderOutput: Sendable, Equatable {
    public let dModel: Int
    /// `hiddenStates[b]` is `[promptLength_b, d_model]`, row-major.
    public let hiddenStates: [[Float]]

    /// Mean over the prompt's tokens (all of them are real: padding was never included).
    public func meanPooled(row b: Int) -> [Float] {
        let h = hiddenStates[b]
        let n = h.count / dModel
        var mean = [Float](repeating: 0, count: dModel)
        for i in 0..<n { for j in 0..<dModel { mean[j] += h[i * dModel + j] } }
        return mean.map { $0 / Float(n) }
    }
}

extension T5Model {
    /// Runs only the encoder over a batch of prompts (token ids).
    public func encode(prompts: [[Int]]) throws -> EncoderOutput {
        try validate(prompts: prompts)
        let p = PromptBatch(prompts, padId: config.padTokenId)
        let bytes = EncoderState.bytes(config: config, rows: p.encoderGroupRows, length: p.length, gated: isGated)
        try requireMemory(bytes, for: "encoding \(p.batch) prompt(s) of up to \(p.length) tokens")
        let s = EncoderState(config: config, rows: p.encoderGroupRows, length: p.length, gated: isGated)
        let d = config.dModel
        var states: [[Float]] = []
        for group in p.encoderGroups {
            runEncoder(p.slice(group), s)
            for (i, b) in group.enumerated() {
                states.append(Array(UnsafeBufferPointer(start: s.x.pointer + i * p.length * d, count: p.lengths[b] * d)))
            }
        }
        return EncoderOutput(dModel: d, hiddenStates: states)
    }
}
