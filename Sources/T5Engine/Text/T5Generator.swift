// The text-level API: a model, its tokenizer and its default options, shared by any number of tasks.
import Foundation

/// Load once, then call `generate`, `stream`, `reason` or `embed` from as many tasks as you like.
public final class T5Generator: Sendable {
    public let model: T5Model
    public let tokenizer: any TextTokenizer
    /// Defaults from the model folder's `generation_config.json`; per-call options replace them.
    public let defaultOptions: GenerationOptions

    public init(model: T5Model, tokenizer: any TextTokenizer, defaultOptions: GenerationOptions = GenerationOptions()) {
        self.model = model
        self.tokenizer = tokenizer
        self.defaultOptions = defaultOptions
    }

    /// A generator over a loaded model folder: its model, tokenizer and `generation_config.json` defaults.
    /// Throws if the folder was loaded without its tokenizer.
    public convenience init(folder: ModelFolder) throws {
        guard let tokenizer = folder.tokenizer else {
            throw ConfigError.missingFile(path: folder.directory.appendingPathComponent("tokenizer.json").path)
        }
        self.init(model: folder.model, tokenizer: tokenizer, defaultOptions: folder.generationDefaults)
    }

    /// Loads a Hugging Face model folder (see `ModelFolder`) and makes a generator over it.
    public convenience init(directory: URL, memoryLimitBytes: Int = 8 << 30, runtime: T5Runtime = .shared) throws {
        try self.init(folder: ModelFolder(directory: directory, memoryLimitBytes: memoryLimitBytes, runtime: runtime))
    }

    /// Generates for one prompt. Decoding runs on a thread of its own, not on Swift's cooperative pool.
    /// Cancelling the task stops decoding at the next token and throws `CancellationError`.
    public func generate(prompt: String, options: GenerationOptions? = nil) async throws -> Generation {
        try await generate(prompts: [prompt], options: options)[0]
    }

    /// Generates for several prompts in one batch through the model.
    public func generate(prompts: [String], options: GenerationOptions? = nil) async throws -> [Generation] {
        let options = options ?? defaultOptions
        return try await DecodeThread.run { cancelled in
            try self.run(prompts: prompts, options: options, cancelled: cancelled, onText: nil)
        }
    }

    /// Streams the text of one prompt as it is generated (greedy or sampling; beam search yields its final
    /// text at the end). Ending the stream's consumer cancels decoding.
    public func stream(prompt: String, options: GenerationOptions? = nil) -> AsyncThrowingStream<String, Error> {
        let options = options ?? defaultOptions
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let result = try await DecodeThread.run { cancelled in
                        try self.run(prompts: [prompt], options: options, cancelled: cancelled) { piece in continuation.yield(piece) }
                    }
                    if options.numBeams > 1 { continuation.yield(result[0].text) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Answers a question with chain-of-thought prompting; with `selfConsistency` K > 1, samples K reasoning
    /// paths and returns the majority answer (Wang et al. 2022). Sampling options come from `options`; without
    /// them, K > 1 samples the default options at `GenerationOptions.withSelfConsistencyDefaults()` (temperature
    /// 0.7, top-k 40), as the `t5` command does. An empty or whitespace-only question is refused.
    public func reason(question: String, mode: CoTMode, selfConsistency: Int = 1, inputBudget: Int = 512,
                       options: GenerationOptions? = nil) async throws -> ReasonedAnswer {
        guard selfConsistency >= 1 else {
            throw GenerationError.invalidOption(name: "selfConsistency", value: "\(selfConsistency)", reason: "must be >= 1")
        }
        guard !question.allSatisfy({ $0.isWhitespace }) else {
            throw GenerationError.invalidOption(name: "question", value: question.debugDescription,
                                                reason: "is empty; there is nothing to reason about")
        }
        let (prompt, used) = try cotPrompt(question: question, mode: mode, inputBudget: inputBudget)
        var o = options ?? (selfConsistency > 1 ? defaultOptions.withSelfConsistencyDefaults() : defaultOptions)
        if selfConsistency > 1 {
            o.doSample = true
            o.numBeams = 1
            o.numReturnSequences = selfConsistency
        }
        let pathOptions = o
        let g = try await DecodeThread.run { cancelled in
            try self.run(prompts: [prompt], options: pathOptions, cancelled: cancelled, onText: nil)[0]
        }
        let paths = g.sequences.map(\.text)
        let answers = paths.map(AnswerExtraction.answer(from:))
        let (answer, votes) = AnswerExtraction.majority(answers) ?? ("", 0)
        let winner = paths[answers.firstIndex(of: answer) ?? 0]
        return ReasonedAnswer(
            prompt: prompt, reasoning: AnswerExtraction.reasoning(from: winner), answer: answer, votes: votes,
            paths: paths, exemplarsUsed: used, promptTokens: g.promptTokens,
            generatedTokens: g.sequences.reduce(0) { $0 + $1.sequence.tokens.count }, timings: g.timings)
    }

    /// The prompt `reason` gives the model for `question`, fitted to `inputBudget` tokens of this tokenizer,
    /// and how many few-shot exemplars it kept.
    public func cotPrompt(question: String, mode: CoTMode, inputBudget: Int = 512) throws -> (prompt: String, exemplarsUsed: Int) {
        let tokenizer = self.tokenizer
        return try CoTPromptBuilder(mode: mode, inputBudget: inputBudget).build(question: question) {
            (try? tokenizer.encodeWithEOS($0).count) ?? Int.max
        }
    }

    /// `text` as token ids for `GenerationOptions.prefix` (the output is forced to start with it): tokenized as
    /// the tokenizer reads it, without EOS.
    public func prefixTokens(_ text: String) throws -> [Int] { Array(try tokenizer.encodeWithEOS(text).dropLast()) }

    /// The encoder's hidden states for `text`: per token (`[tokens, d_model]`) and mean-pooled.
    public func embed(text: String) throws -> (tokens: [[Float]], pooled: [Float]) {
        let ids = try tokenizer.encodeWithEOS(text)
        let out = try model.encode(prompts: [ids])
        let d = out.dModel, h = out.hiddenStates[0]
        let perToken = stride(from: 0, to: h.count, by: d).map { Array(h[$0..<($0 + d)]) }
        return (perToken, out.meanPooled(row: 0))
    }

    // MARK: - The shared path

    /// Tokenize, generate, detokenize; synchronous, on the calling (decode) thread. `cancelled` is checked before each token.
    private func run(prompts: [String], options: GenerationOptions, cancelled: CancellationFlag,
                     onText: ((String) -> Void)?) throws -> [Generation] {
        let tokenizer = self.tokenizer
        let clock = ContinuousClock()
        let t0 = clock.now
        let eos = model.config.eosTokenId
        let ids = try prompts.enumerated().map { i, p in try options.limitPrompt(tokenizer.encodeWithEOS(p), eos: eos, prompt: i) }
        let t1 = clock.now
        var hooks = GenerationHooks(isCancelled: { cancelled.isSet })
        if !options.stopStrings.isEmpty {
            // Stop strings are looked for in the generated text: a forced prefix that holds one does not stop it.
            let stops = options.stopStrings, forced = options.prefix.count
            hooks.shouldStop = { _, tokens in
                let text = tokenizer.decodeSkippingSpecial(Array(tokens.dropFirst(forced)))
                return stops.contains { text.contains($0) }
            }
        }
        if let onText {
            let streamer = TextStreamer(tokenizer: tokenizer, emit: onText)
            hooks.onToken = { row, token in if row == 0 { streamer.append(token) } }
        }
        let results = try model.generate(prompts: ids, options: options, hooks: hooks)
        if cancelled.isSet, results.contains(where: { $0.contains { $0.finishReason == .cancelled } }) {
            throw CancellationError()
        }
        let t2 = clock.now
        let generated = results.reduce(0) { $0 + $1.reduce(0) { $0 + $1.tokens.count } }
        let genMs = ms(t2 - t1)
        let timings = GenerationTimings(tokenizeMs: ms(t1 - t0), generateMs: genMs,
                                        tokensPerSecond: genMs > 0 ? Double(generated) / (genMs / 1000) : 0)
        return zip(ids, results).map { promptIds, sequences in
            let texts = sequences.map { (text: tokenizer.decodeSkippingSpecial($0.tokens), sequence: $0) }
            return Generation(text: texts[0].text, tokens: sequences[0].tokens, finishReason: sequences[0].finishReason,
                              score: sequences[0].score, sequences: texts, promptTokens: promptIds.count, timings: timings)
        }
    }
}

/// Turns tokens into text pieces as they arrive: each piece is the new suffix of the decoded text,
/// so the pieces join exactly to the final text.
private final class TextStreamer {
    let tokenizer: any TextTokenizer
    let emit: (String) -> Void
    var tokens: [Int] = []
    var emitted = ""

    init(tokenizer: any TextTokenizer, emit: @escaping (String) -> Void) {
        self.tokenizer = tokenizer
        self.emit = emit
    }

    func append(_ token: Int) {
        tokens.append(token)
        let text = tokenizer.decodeSkippingSpecial(tokens)
        if text.hasPrefix(emitted), text.count > emitted.count {
            emit(String(text.dropFirst(emitted.count)))
            emitted = text
        }
    }
}

private func ms(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}
