// Greedy decoding: every row takes its most likely next token until EOS or the token limit.

extension T5Model {
    /// Greedy generation for a batch of prompts (token ids, usually ending with EOS).
    /// Returns each row's new tokens, without the decoder start token, ending with EOS when one was produced.
    /// Rows finish independently; a finished row stops growing while the others go on.
    public func generateGreedy(prompts: [[Int]], maxNewTokens: Int) throws -> [[Int]] {
        guard maxNewTokens >= 0 else {
            throw GenerationError.invalidOption(name: "maxNewTokens", value: "\(maxNewTokens)", reason: "must be >= 0")
        }
        try validate(prompts: prompts)
        if maxNewTokens == 0 { return prompts.map { _ in [] } }
        let session = try DecodingSession(model: self, prompts: prompts, maxSteps: maxNewTokens)
        let eos = config.eosTokenId
        var outputs = [[Int]](repeating: [], count: prompts.count)
        var finished = [Bool](repeating: false, count: prompts.count)
        // Finished rows keep being fed padding, as transformers does; their logits are ignored.
        var next = [Int](repeating: config.decoderStartTokenId, count: prompts.count)
        for stepIndex in 0..<maxNewTokens {
            try session.step(next)
            for b in 0..<prompts.count {
                if finished[b] { next[b] = config.padTokenId; continue }
                let token = try session.withLogits(row: b) { logits in
                    guard let best = argmax(logits) else {
                        throw GenerationError.nonFiniteLogits(row: b, step: stepIndex)
                    }
                    return best
                }
                outputs[b].append(token)
                next[b] = token
                if token == eos { finished[b] = true }
            }
            if !finished.contains(false) { break }
        }
        return outputs
    }
}

/// Index of the largest value, the first one on ties (as torch.argmax); nil if any value is NaN.
func argmax(_ values: UnsafeBufferPointer<Float>) -> Int? {
    var best = 0
    var bestValue = -Float.infinity
    for i in 0..<values.count {
        let v = values[i]
        if v.isNaN { return nil }
        if v > bestValue || i == 0 { best = i; bestValue = v }
    }
    return best
}
