// The logits-processor stage of decoding: edits of a row's next-token scores before a token is chosen,
// applied in order as a list built once per request (transformers' LogitsProcessorList).

/// What a processor may read besides the scores.
public struct LogitsContext {
    /// The row's decoder input so far, decoder start token included (transformers' `input_ids`), so the start
    /// token counts for the repetition penalty and n-grams.
    public var sequence: [Int]
    /// Tokens the row has generated so far.
    public var generated: Int
    /// Index of the row's prompt in its request (transformers' `batch_id`), for `prefixAllowedTokens`.
    public var prompt: Int

    public init(sequence: [Int], generated: Int, prompt: Int = 0) {
        self.sequence = sequence
        self.generated = generated
        self.prompt = prompt
    }
}

/// One edit of a row's scores, in place. Processors may keep scratch, so they are used by one decode loop at a time.
public protocol LogitsProcessor {
    mutating func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext)
}

/// Processors applied in order.
public struct LogitsProcessorList {
    public var processors: [any LogitsProcessor]

    public init(_ processors: [any LogitsProcessor] = []) { self.processors = processors }

    public var isEmpty: Bool { processors.isEmpty }

    /// Set once a prefix constraint allowed no token of the vocabulary: decoding cannot go on (transformers raises
    /// a ValueError there), so the search stops with this error.
    public var constraintViolation: GenerationError? {
        for p in processors {
            if let c = p as? PrefixConstrainedProcessor, let v = c.violation {
                return .constraintUnsatisfiable(prompt: v.prompt, step: v.generated)
            }
        }
        return nil
    }

    public mutating func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        for i in processors.indices { processors[i].process(scores, context: context) }
    }

    /// The edits every strategy applies, in transformers' order (`_get_logits_processor`): sequence bias (logit
    /// bias), repetition penalty, no-repeat n-gram, bad words, min new tokens, the prefix constraint, forced EOS,
    /// suppressed tokens, tokens suppressed at the beginning.
    public static func penalties(for options: GenerationOptions, eos: Int) -> LogitsProcessorList {
        var list: [any LogitsProcessor] = []
        if !options.sequenceBias.isEmpty { list.append(SequenceBiasProcessor(options.sequenceBias)) }
        if options.repetitionPenalty != 1 { list.append(RepetitionPenaltyProcessor(penalty: options.repetitionPenalty)) }
        if options.noRepeatNgramSize > 0 { list.append(NoRepeatNGramProcessor(size: options.noRepeatNgramSize)) }
        if !options.badWordsIds.isEmpty { list.append(SequenceBiasProcessor.noBadWords(options.badWordsIds, eos: eos)) }
        if options.minNewTokens > 0 { list.append(MinNewTokensProcessor(minNewTokens: options.minNewTokens, eos: eos)) }
        if let constraint = options.prefixAllowedTokens { list.append(PrefixConstrainedProcessor(constraint)) }
        if options.forcedEOS { list.append(ForcedEOSProcessor(maxNewTokens: options.maxNewTokens, eos: eos)) }
        if !options.suppressTokens.isEmpty { list.append(SuppressTokensProcessor(tokens: options.suppressTokens)) }
        if !options.beginSuppressTokens.isEmpty {
            list.append(BeginSuppressTokensProcessor(tokens: options.beginSuppressTokens, beginIndex: options.prefix.count))
        }
        return LogitsProcessorList(list)
    }

    /// The sampling warpers, in transformers' order: temperature, top-k, top-p. Empty unless `options.doSample`.
    public static func warpers(for options: GenerationOptions) -> LogitsProcessorList {
        guard options.doSample else { return LogitsProcessorList() }
        var list: [any LogitsProcessor] = []
        if options.temperature != 1 { list.append(TemperatureWarper(temperature: options.temperature)) }
        if options.topK > 0 { list.append(TopKWarper(k: options.topK)) }
        if options.topP < 1 { list.append(TopPWarper(p: options.topP)) }
        return LogitsProcessorList(list)
    }
}
