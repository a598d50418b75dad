// Greedy and sampled decoding: one token per row per step, rows finishing independently
// (transformers' `_sample`, with and without `do_sample`).
import T5Modeling

/// Processors, then (sampling) warpers, then each row's sampler: argmax for greedy, a seeded draw for sampling.
public struct TokenSearch: SearchStrategy {
    public let options: GenerationOptions

    public init(options: GenerationOptions) { self.options = options }

    public func run(model: T5Model, prompts: [[Int]], hooks: GenerationHooks) throws -> [[GeneratedSequence]] {
        let perPrompt = options.doSample ? options.numReturnSequences : 1
        if options.doSample {
            // Row r samples from its own stream: the same seed gives the same output whatever the batch holds.
            var samplers = (0..<prompts.count * perPrompt).map { r in
                SeededSampler(seed: options.seed, stream: UInt64(r % perPrompt) << 32 | UInt64(r / perPrompt))
            }
            return try run(model: model, prompts: prompts, perPrompt: perPrompt, samplers: &samplers, hooks: hooks)
        }
        var samplers = [ArgmaxSampler](repeating: ArgmaxSampler(), count: prompts.count)
        return try run(model: model, prompts: prompts, perPrompt: 1, samplers: &samplers, hooks: hooks)
    }

    private func run<S: TokenSampler>(model: T5Model, prompts: [[Int]], perPrompt: Int, samplers: inout [S],
                                      hooks: GenerationHooks) throws -> [[GeneratedSequence]] {
        let config = model.config
        let session = try DecodingSession(model: model, prompts: prompts, maxSteps: options.maxNewTokens, rowsPerPrompt: perPrompt)
        let rows = session.batch, eos = options.eosTokenId ?? config.eosTokenId
        var penalties = LogitsProcessorList.penalties(for: options, eos: eos)
        var warpers = LogitsProcessorList.warpers(for: options)
        var sequences = [[Int]](repeating: [config.decoderStartTokenId], count: rows)
        var reasons = [FinishReason?](repeating: nil, count: rows)
        var next = [Int](repeating: config.decoderStartTokenId, count: rows)

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
                    let context = LogitsContext(sequence: sequences[r], generated: stepIndex)
                    penalties.process(scores, context: context)
                    warpers.process(scores, context: context)
                    guard let chosen = samplers[r].choose(from: scores) else {
                        throw GenerationError.nonFiniteLogits(row: r, step: stepIndex)
                    }
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
