// The token-level generation entry point: options checked, then the strategy they ask for.
import T5Modeling

extension T5Model {
    /// Generates for a batch of prompts (token ids, usually ending with EOS), synchronously on the calling thread.
    /// Returns, per prompt, `numReturnSequences` sequences (beam search: best first).
    public func generate(prompts: [[Int]], options: GenerationOptions, hooks: GenerationHooks = GenerationHooks()) throws -> [[GeneratedSequence]] {
        try options.validate()
        try validate(prompts: prompts)
        if let eos = options.eosTokenId, eos < 0 || eos >= config.vocabSize {
            throw GenerationError.invalidOption(name: "eosTokenId", value: "\(eos)", reason: "outside the vocabulary 0..<\(config.vocabSize)")
        }
        if options.maxNewTokens == 0 {
            return prompts.map { _ in
                Array(repeating: GeneratedSequence(tokens: [], finishReason: .length, score: nil), count: options.numReturnSequences)
            }
        }
        return try options.searchStrategy().run(model: self, prompts: prompts, hooks: hooks)
    }

    /// Greedy generation; each prompt's new tokens, ending with EOS when one was produced.
    public func generateGreedy(prompts: [[Int]], maxNewTokens: Int) throws -> [[Int]] {
        var options = GenerationOptions()
        options.maxNewTokens = maxNewTokens
        return try generate(prompts: prompts, options: options).map { $0[0].tokens }
    }
}
