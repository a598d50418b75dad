// The token-level generation entry point: options checked, then one request decoder over its own session.
import T5Modeling

extension T5Model {
    /// Generates for a batch of prompts (token ids, usually ending with EOS), synchronously on the calling thread.
    /// Returns, per prompt, `numReturnSequences` sequences (beam search: best first).
    public func generate(prompts: [[Int]], options: GenerationOptions, hooks: GenerationHooks = GenerationHooks()) throws -> [[GeneratedSequence]] {
        try options.validate(vocabularySize: config.vocabSize)
        try validate(prompts: prompts)
        if options.maxNewTokens == 0 {
            let empty = GeneratedSequence(tokens: [], finishReason: .length, score: nil, logprobs: options.logprobs.map { _ in [] })
            return prompts.map { _ in Array(repeating: empty, count: options.numReturnSequences) }
        }
        let decoder = options.makeDecoder(promptCount: prompts.count, hooks: hooks, eos: options.eosTokenId ?? config.eosTokenId)
        let reorderable = options.numBeams > 1
        try requireDecodingMemory(prompts: prompts, rowsPerPrompt: decoder.rowsNeeded / prompts.count,
                                  maxSteps: options.maxNewTokens, reorderable: reorderable)
        let encoded = try encodeForDecoding(prompts: prompts)
        let session = try DecodingSession(model: self, capacity: decoder.rowsNeeded, maxSteps: options.maxNewTokens,
                                          maxPromptLength: encoded.lengths.max() ?? 0, reorderable: reorderable)
        let loop = SharedDecodingLoop(session: session)
        let id = try loop.add(decoder, encoded: encoded)
        while true {
            if hooks.isCancelled?() == true { return try loop.cancel(request: id) }
            for event in try loop.step() {
                switch event {
                case .tokens: continue
                case .finished(_, let sequences): return sequences
                case .failed(_, let error): throw error
                }
            }
        }
    }

    /// Greedy generation; each prompt's new tokens, ending with EOS when one was produced.
    public func generateGreedy(prompts: [[Int]], maxNewTokens: Int) throws -> [[Int]] {
        var options = GenerationOptions()
        options.maxNewTokens = maxNewTokens
        return try generate(prompts: prompts, options: options).map { $0[0].tokens }
    }
}
