// Greedy and sampled decoding as a request decoder: one token per row per step, rows finishing independently
// (transformers' `_sample`, with and without `do_sample`).
import T5Modeling

/// Processors, then (sampling) warpers, then each row's sampler: argmax for greedy, a seeded draw for sampling.
/// Sampling runs `numReturnSequences` rows per prompt; row `k` of prompt `p` draws from stream `(k, p)`, so the
/// same seed gives the same output whatever else shares the session. A forced `prefix` is fed first, one token a
/// step, its logits unused (transformers runs it as part of the decoder prompt).
public final class TokenSearchDecoder: RequestDecoder {
    public let options: GenerationOptions
    private let hooks: GenerationHooks
    private let eos: Int
    private let perPrompt: Int
    private let promptCount: Int
    private var penalties: LogitsProcessorList
    private var warpers: LogitsProcessorList
    private var samplers: [any TokenSampler]
    /// Per-step log-probabilities, when `options.logprobs` asks for them.
    private var recorder: LogprobRecorder?
    private var logprobs: [[TokenLogprob]]
    /// Per request row (`p * perPrompt + k`): the session row, decoder input so far (start token included), and
    /// why it finished (nil while running).
    private var rowIds: [Int] = []
    private var sequences: [[Int]]
    private var reasons: [FinishReason?]
    private var generated = 0

    public convenience init(options: GenerationOptions, promptCount: Int, eos: Int, hooks: GenerationHooks = GenerationHooks()) {
        self.init(options: options, promptCount: promptCount, eos: eos, hooks: hooks, samplers: nil)
    }

    /// `samplers` (one per row, `p * perPrompt + k`) replace the argmax / seeded ones: tests replay recorded draws.
    init(options: GenerationOptions, promptCount: Int, eos: Int, hooks: GenerationHooks, samplers given: [any TokenSampler]?) {
        self.options = options
        self.hooks = hooks
        self.eos = eos
        self.promptCount = promptCount
        perPrompt = options.doSample ? options.numReturnSequences : 1
        penalties = LogitsProcessorList.penalties(for: options, eos: eos)
        warpers = LogitsProcessorList.warpers(for: options)
        let rows = promptCount * perPrompt
        samplers = given ?? (options.doSample
            ? (0..<rows).map { [perPrompt, seed = options.seed] r in
                SeededSampler(seed: seed, stream: UInt64(r % perPrompt) << 32 | UInt64(r / perPrompt)) }
            : Array(repeating: ArgmaxSampler(), count: rows))
        precondition(samplers.count == rows, "one sampler per row")
        recorder = options.logprobs.map { LogprobRecorder(k: $0) }
        let entries = min(options.maxNewTokens - options.prefix.count, 512)
        logprobs = (0..<(options.logprobs == nil ? 0 : rows)).map { _ in
            var row: [TokenLogprob] = []
            row.reserveCapacity(entries)
            return row
        }
        sequences = []
        reasons = Array(repeating: nil, count: rows)
    }

    public var rowsNeeded: Int { promptCount * perPrompt }
    public var maxSteps: Int { options.maxNewTokens }

    public func start(in session: DecodingSession, encoded: EncodedPrompts) throws {
        precondition(rowIds.isEmpty, "a decoder starts once")
        guard encoded.count == promptCount else {
            throw RequestError.invalidArgument(name: "encoded", value: "\(encoded.count) prompts", reason: "the decoder was made for \(promptCount)")
        }
        // The prefix ids and `logprobs` are checked against the vocabulary here, for callers of `makeDecoder`.
        try options.validate(vocabularySize: session.model.config.vocabSize)
        for p in 0..<promptCount { rowIds += try session.join(encoded, prompt: p, rows: perPrompt) }
        sequences = Array(repeating: [session.model.config.decoderStartTokenId], count: rowIds.count)
    }

    public var inputs: [(row: Int, token: Int)] {
        rowIds.indices.compactMap { r in reasons[r] == nil ? (rowIds[r], sequences[r].last!) : nil }
    }

    public var isFinished: Bool {
        !rowIds.isEmpty && (generated >= options.maxNewTokens || !reasons.contains(where: { $0 == nil }))
    }

    public func advance(in session: DecodingSession) throws -> [TokenEvent] {
        var events: [TokenEvent] = []
        let forced = generated < options.prefix.count
        for r in rowIds.indices where reasons[r] == nil {
            let token = forced ? options.prefix[generated] : try choose(row: r, in: session)
            sequences[r].append(token)
            events.append(TokenEvent(prompt: r / perPrompt, sequence: r % perPrompt, token: token))
            hooks.onToken?(r, token)
            // Prefix tokens are given, not generated: an EOS or a stop string among them does not end the row.
            if !forced {
                if token == eos {
                    reasons[r] = .eos
                } else if let shouldStop = hooks.shouldStop, shouldStop(r, Array(sequences[r].dropFirst())) {
                    reasons[r] = .stop
                }
            }
            // A finished row leaves at once: its slot is free for another request's row.
            if reasons[r] != nil { try session.leave(row: rowIds[r]) }
        }
        generated += 1
        return events
    }

    /// Request row `r`'s token at this step: processors, warpers, then its sampler; its log-probabilities if asked.
    private func choose(row r: Int, in session: DecodingSession) throws -> Int {
        try session.withMutableLogits(row: rowIds[r]) { scores -> Int in
            let context = LogitsContext(sequence: sequences[r], generated: generated)
            penalties.process(scores, context: context)
            warpers.process(scores, context: context)
            guard let chosen = samplers[r].choose(from: scores) else {
                throw GenerationError.nonFiniteLogits(row: r, step: generated)
            }
            if recorder != nil {
                logprobs[r].append(recorder!.entry(token: chosen, scores: UnsafeBufferPointer(scores), normalize: true))
            }
            return chosen
        }
    }

    public func finish(in session: DecodingSession, cancelled: Bool) throws -> [[GeneratedSequence]] {
        for r in rowIds.indices where reasons[r] == nil { try session.leave(row: rowIds[r]) }
        let results = rowIds.indices.map { r in
            GeneratedSequence(tokens: Array(sequences[r].dropFirst()),
                              finishReason: reasons[r] ?? (cancelled ? .cancelled : .length), score: nil,
                              logprobs: options.logprobs == nil ? nil : logprobs[r])
        }
        rowIds = []
        return (0..<promptCount).map { p in Array(results[(p * perPrompt)..<((p + 1) * perPrompt)]) }
    }
}
