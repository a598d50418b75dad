// Greedy and sampled decoding: one token per row per step, rows finishing independently
// (transformers' `_sample`, with and without `do_sample`).
import Foundation
import T5Modeling

extension T5Model {
    func tokenSearch(prompts: [[Int]], options: GenerationOptions, hooks: GenerationHooks) throws -> [[GeneratedSequence]] {
        let perPrompt = options.doSample ? options.numReturnSequences : 1
        let session = try DecodingSession(model: self, prompts: prompts, maxSteps: options.maxNewTokens, rowsPerPrompt: perPrompt)
        let rows = session.batch, eos = options.eosTokenId ?? config.eosTokenId
        let processing = LogitsProcessing(options: options, eos: eos)
        // Row r samples from its own stream: the same seed gives the same output whatever the batch holds.
        var generators = (0..<rows).map { r in
            SeededGenerator(seed: options.seed, stream: UInt64(r % perPrompt) << 32 | UInt64(r / perPrompt))
        }
        var sequences = [[Int]](repeating: [config.decoderStartTokenId], count: rows)
        var reasons = [FinishReason?](repeating: nil, count: rows)
        var next = [Int](repeating: config.decoderStartTokenId, count: rows)
        var order = [Int]()
        order.reserveCapacity(config.vocabSize)

        for stepIndex in 0..<options.maxNewTokens {
            if hooks.isCancelled?() == true {
                for r in 0..<rows where reasons[r] == nil { reasons[r] = .cancelled }
                break
            }
            try session.step(next)
            for r in 0..<rows {
                // Finished rows are fed padding, as transformers does; their logits are ignored.
                guard reasons[r] == nil else { next[r] = config.padTokenId; continue }
                let token = try session.withMutableLogits(row: r) { scores -> Int in
                    processing.applyPenalties(scores, sequence: sequences[r], generated: stepIndex)
                    let chosen: Int?
                    if options.doSample {
                        processing.applyWarpers(scores, order: &order)
                        chosen = sample(scores, using: &generators[r])
                    } else {
                        chosen = argmax(UnsafeBufferPointer(scores))
                    }
                    guard let chosen else { throw GenerationError.nonFiniteLogits(row: r, step: stepIndex) }
                    return chosen
                }
                sequences[r].append(token)
                next[r] = token
                hooks.onToken?(r, token)
                if token == eos {
                    reasons[r] = .eos
                } else if let shouldStop = hooks.shouldStop, shouldStop(r, Array(sequences[r].dropFirst())) {
                    reasons[r] = .stop
                }
            }
            if !reasons.contains(where: { $0 == nil }) { break }
        }
        let results = (0..<rows).map { r in
            GeneratedSequence(tokens: Array(sequences[r].dropFirst()), finishReason: reasons[r] ?? .length, score: nil)
        }
        return (0..<prompts.count).map { p in Array(results[(p * perPrompt)..<((p + 1) * perPrompt)]) }
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

/// Draws an index with probability softmax(scores); -inf scores are never drawn. nil if a score is NaN.
func sample(_ scores: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator) -> Int? {
    var m = -Float.infinity
    for s in scores {
        if s.isNaN { return nil }
        if s > m { m = s }
    }
    guard m > -.infinity else { return nil }
    var total: Double = 0
    for s in scores where s > -.infinity { total += Double(exp(s - m)) }
    let target = generator.unit() * total
    var cumulative: Double = 0
    var last = 0
    for i in 0..<scores.count where scores[i] > -.infinity {
        cumulative += Double(exp(scores[i] - m))
        last = i
        if cumulative > target { return i }
    }
    return last
}
