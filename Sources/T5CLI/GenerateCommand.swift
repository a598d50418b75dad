// `t5 generate`: text (or token ids) in, generated text out: streamed, as JSON, or a JSONL batch.
import ArgumentParser
import Foundation
import T5Engine

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt (greedy by default; beams, sampling and chain-of-thought on request).",
        discussion: """
        The prompt comes from the argument, --prompt, --prompt-file, or standard input. --batch-file reads JSON lines \
        with a "prompt" (or "text"/"question") field and writes one JSON line per input. --ids skips the tokenizer: \
        comma-separated token ids in, ids out. A file option given as - reads standard input. An empty or \
        whitespace-only prompt is an error. Sampling without --seed draws a fresh seed and reports it ("seed: N" on \
        stderr, "seed" in --json), so --seed N replays the run.
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var chainOfThought: CoTOptions

    @Argument(help: "The prompt text.")
    var text: String?
    @Option(name: .long, help: "The prompt text (same as the argument).")
    var prompt: String?
    @Option(name: .long, help: "Read the prompt from this file; - reads standard input.")
    var promptFile: String?
    @Option(name: .long, help: "Prompt as comma-separated token ids of the model's vocabulary (`t5 tokenize TEXT` prints them); prints ids.")
    var ids: String?
    @Option(name: .long, help: "JSON lines in (one prompt per line; - reads standard input), JSON lines out.")
    var batchFile: String?
    @Option(name: .long, parsing: .unconditional, help: "Prompts per model batch with --batch-file.")
    var batchSize: Int = 8
    @Flag(name: .long, inversion: .prefixedNo, help: "Print tokens as they are generated (default: on when stdout is a terminal).")
    var stream: Bool?
    @Flag(name: .long, help: "Print one JSON object with text, ids, answer, votes, token counts, seed and timings.")
    var json = false
    @Option(name: .long, help: "Rank classification: print the most likely of these comma-separated options (and every option's log-likelihood) instead of generating.")
    var choices: String?
    @Option(name: .long, help: "Like --choices, one option per line of this file (- reads standard input).")
    var choicesFile: String?
    @Option(name: .long, help: "The output starts with this text (tokenized as it reads mid-sentence, no EOS): its tokens are forced, the output includes them and continues them, and they count toward --max-new-tokens (CTranslate2's target_prefix).")
    var prefix: String?
    @Option(name: .long, help: "Like --prefix, as comma-separated token ids (the form --ids takes).")
    var prefixIds: String?
    @Option(name: .long, parsing: .unconditional, help: "With --json or --batch-file: \"logprobs\" per returned sequence, one entry per generated token (prefix tokens have none), {\"id\", \"logprob\", \"top\": [[id, logprob], ...]} with the K most likely tokens of its step (0: none). The distribution is the one the token was chosen from, after the processors (beam search: transformers' beam transition scores; a sequence's \"score\" is their sum / length^length-penalty).")
    var logprobs: Int?

    func validate() throws {
        let sources = [text, prompt, promptFile, ids, batchFile].compactMap { $0 }.count
        guard sources <= 1 else { throw ValidationError("give one prompt source: an argument, --prompt, --prompt-file, --ids or --batch-file") }
        if let ids { _ = try parseIds(ids) }
        guard batchSize >= 1, batchSize <= 4096 else { throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)") }
        if ids != nil && chainOfThought.reasons { throw ValidationError("--ids cannot be combined with --cot or --self-consistency") }
        if let text { try requirePrompt(text, what: "the prompt argument") }
        if let prompt { try requirePrompt(prompt, what: "--prompt") }
        try requireOneStandardInputReader([
            ("--prompt-file -", promptFile == "-"), ("--batch-file -", batchFile == "-"),
            ("--exemplars -", chainOfThought.exemplarsFromStandardInput),
        ])
        if choices != nil || choicesFile != nil {
            guard choices == nil || choicesFile == nil else { throw ValidationError("give --choices or --choices-file, not both") }
            guard ids == nil, batchFile == nil, !chainOfThought.reasons else {
                throw ValidationError("--choices ranks options for one text prompt: it cannot be combined with --ids, --batch-file, --cot or --self-consistency")
            }
            if let choices { _ = try parseChoices(choices, flag: "--choices") }
        }
        try requireOneStandardInputReader([("--prompt-file -", promptFile == "-"), ("--choices-file -", choicesFile == "-")])
        guard prefix == nil || prefixIds == nil else { throw ValidationError("give --prefix or --prefix-ids, not both") }
        if prefix != nil && ids != nil { throw ValidationError("--prefix needs the tokenizer; with --ids give --prefix-ids") }
        if let prefixIds { _ = try tokenList(prefixIds, flag: "--prefix-ids") }
        if let logprobs {
            guard logprobs >= 0 else { throw ValidationError("--logprobs \(logprobs): must be >= 0 (0: the chosen token's log-probability only)") }
            guard json || batchFile != nil else { throw ValidationError("--logprobs needs --json or --batch-file: the log-probabilities are printed as JSON") }
            guard !chainOfThought.reasons else { throw ValidationError("--logprobs cannot be combined with --cot or --self-consistency") }
        }
        if choices != nil || choicesFile != nil, prefix != nil || prefixIds != nil || logprobs != nil {
            throw ValidationError("--choices scores the options as they are: it cannot be combined with --prefix, --prefix-ids or --logprobs")
        }
        if sources == 0 && chainOfThought.exemplarsFromStandardInput {
            throw ValidationError("--exemplars - takes standard input, so give the prompt as an argument, --prompt, --prompt-file or --batch-file")
        }
    }

    func run() async throws {
        // Everything the user gave is read and checked before the model is loaded, so bad input fails at once.
        let idsPrompt = try ids.map(parseIds)
        let batch = try batchFile.map { try readBatch($0) }
        let exemplars = try chainOfThought.readExemplars()
        let rankOptions = try choices.map { try parseChoices($0, flag: "--choices") }
            ?? choicesFile.map { try parseChoices(try readInputText($0, option: "--choices-file"), flag: "--choices-file \($0)", separator: "\n") }
        let text = idsPrompt == nil && batch == nil ? try readPrompt() : nil

        let start = ContinuousClock.now
        let folder = try model.loadFolder(tokenizer: ids == nil)
        let loadMs = milliseconds(ContinuousClock.now - start)
        if let idsPrompt {
            try runIds(idsPrompt, folder: folder, loadMs: loadMs)
            return
        }
        let generator = try T5Generator(folder: folder)
        if let rankOptions, let text {
            try await runChoices(generator, prompt: text, options: rankOptions, loadMs: loadMs)
            return
        }
        let decoded = try decoding.apply(to: generator.defaultOptions, tokenizer: folder.tokenizer, vocabularySize: folder.model.config.vocabSize)
        let chosen = try withOutputOptions(chainOfThought.samplingDefaults(decoded, decoding: decoding), tokenizer: folder.tokenizer,
                                           vocabularySize: folder.model.config.vocabSize)
        let (options, seed, drawn) = decoding.seeded(chosen, samples: chainOfThought.samples(chosen))
        reportSeed(seed, drawn: drawn, json: json || batch != nil)
        if let batch {
            try await runBatch(generator, options: options, seed: seed, items: batch, folder: folder, exemplars: exemplars)
            return
        }
        guard let text else { return }
        if chainOfThought.reasons {
            let r = try await generator.reason(question: text, mode: try chainOfThought.mode(folder: folder, exemplars: exemplars),
                                               selfConsistency: chainOfThought.selfConsistency,
                                               inputBudget: chainOfThought.inputBudget, options: options)
            if json {
                writeOut(try jsonLine(reasonedJSON(r, question: text, seed: seed, loadMs: loadMs)) + "\n")
            } else {
                writeOut("Reasoning: \(r.reasoning)\n")
                let votes = r.paths.count > 1 ? " (\(r.votes) of \(r.paths.count) votes)" : ""
                writeOut("Answer: \(r.answer)\(votes)\n")
            }
            return
        }
        let streaming = !json && (stream ?? (isatty(STDOUT_FILENO) == 1)) && options.numBeams == 1 && options.numReturnSequences == 1
        if streaming {
            for try await piece in generator.stream(prompt: text, options: options) { writeOut(piece) }
            writeOut("\n")
            return
        }
        let g = try await generator.generate(prompt: text, options: options)
        if json {
            writeOut(try jsonLine(generationJSON(g, prompt: text, seed: seed, loadMs: loadMs)) + "\n")
        } else {
            for (i, s) in g.sequences.enumerated() {
                writeOut(g.sequences.count > 1 ? "[\(i + 1)] \(s.text)\n" : "\(s.text)\n")
            }
        }
    }

    // MARK: - Sources

    /// The prompt of the argument, --prompt, --prompt-file (`-`: standard input) or standard input; never blank.
    private func readPrompt() throws -> String {
        if let text { return text }
        if let prompt { return prompt }
        if let promptFile {
            let s = try readInputText(promptFile, option: "--prompt-file").trimmingCharacters(in: .newlines)
            try requirePrompt(s, what: promptFile == "-" ? "--prompt-file - (standard input)" : "--prompt-file \(promptFile)")
            return s
        }
        if isatty(STDIN_FILENO) == 0 {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(data: data, encoding: .utf8) else { throw InputError(message: "standard input is not UTF-8 text") }
            let trimmed = s.trimmingCharacters(in: .newlines)
            try requirePrompt(trimmed, what: "the prompt on standard input")
            return trimmed
        }
        throw ValidationError("no prompt: give it as an argument, --prompt, --prompt-file, --ids, --batch-file or on standard input")
    }

    /// The prompts of --batch-file (`-`: standard input), each with its JSON object; a blank prompt is an error naming its line.
    private func readBatch(_ file: String) throws -> [(object: [String: Any], prompt: String)] {
        try readJSONLines(file, option: "--batch-file").map { line, object in
            guard let prompt = (object["prompt"] ?? object["text"] ?? object["question"]) as? String else {
                throw InputError(message: "--batch-file \(file):\(line): expected a JSON object with a \"prompt\" string")
            }
            try requirePrompt(prompt, what: "--batch-file \(file):\(line): the prompt")
            return (object: object, prompt: prompt)
        }
    }

    // MARK: - Modes

    /// Rank classification: every option scored by log-likelihood given the prompt; the best one printed first.
    private func runChoices(_ generator: T5Generator, prompt: String, options: [String], loadMs: Double) async throws {
        let ranked = try await generator.rank(prompt: prompt, choices: options)
        if json {
            let all = ranked.choices.map { c -> [String: Any] in
                var o = scoreJSON(c.score)
                o["text"] = c.text
                return o
            }
            writeOut(try jsonLine(["prompt": prompt, "choice": ranked.bestText, "choice_index": ranked.best, "choices": all,
                                   "load_ms": loadMs]) + "\n")
            return
        }
        writeOut(ranked.bestText + "\n")
        for (i, c) in ranked.choices.enumerated() {
            let mark = i == ranked.best ? "*" : " "
            writeOut(String(format: "%@ %.6f\t%.6f\t", mark, c.score.logprob, c.score.meanLogprob) + c.text + "\n")
        }
    }

    private func runIds(_ given: [Int], folder: ModelFolder, loadMs: Double) throws {
        try checkIdsFit(given, vocabularySize: folder.model.config.vocabSize)
        let chosen = try withOutputOptions(decoding.apply(to: folder.generationDefaults, tokenizer: nil, vocabularySize: folder.model.config.vocabSize),
                                           tokenizer: nil, vocabularySize: folder.model.config.vocabSize)
        let prompt = try chosen.limitPrompt(given, eos: folder.model.config.eosTokenId)
        let (options, seed, drawn) = decoding.seeded(chosen, samples: chosen.doSample)
        reportSeed(seed, drawn: drawn, json: json)
        let loaded = ContinuousClock.now
        let result = try folder.model.generate(prompts: [prompt], options: options)[0]
        let done = ContinuousClock.now
        if json {
            var object: [String: Any] = [
                "ids": result[0].tokens, "prompt_ids": prompt, "finish_reason": result[0].finishReason.rawValue,
                "load_ms": loadMs, "generate_ms": milliseconds(done - loaded),
            ]
            if let score = result[0].score { object["score"] = Double(score) }
            if let logprobs = result[0].logprobs { object["logprobs"] = logprobsJSON(logprobs) }
            if result.count > 1 {
                object["sequences"] = result.map(\.tokens)
                // Per returned sequence, in the order of "sequences" (transformers' sequences_scores).
                if result[0].score != nil { object["sequences_scores"] = result.map { Double($0.score ?? 0) } }
                if options.logprobs != nil { object["sequences_logprobs"] = result.map { logprobsJSON($0.logprobs ?? []) } }
            }
            if let seed { object["seed"] = seed }
            writeOut(try jsonLine(object) + "\n")
        } else {
            for s in result { writeOut(s.tokens.map(String.init).joined(separator: ",") + "\n") }
        }
    }

    /// --prefix / --prefix-ids and --logprobs applied to `o` and checked against the model; errors name the flag.
    private func withOutputOptions(_ o: GenerationOptions, tokenizer: T5Tokenizer?, vocabularySize: Int) throws -> GenerationOptions {
        var o = o
        if let prefixIds {
            let given = try tokenList(prefixIds, flag: "--prefix-ids")
            if let bad = given.first(where: { $0 >= vocabularySize }) {
                throw ValidationError("--prefix-ids: token id \(bad) is outside the vocabulary 0..<\(vocabularySize) of this model")
            }
            o.prefix = given
        }
        if let prefix, let tokenizer {
            o.prefix = tokenizer.encode(prefix, addEOS: false)
            guard !o.prefix.isEmpty else { throw ValidationError("--prefix '\(prefix)' gives no tokens") }
        }
        if o.prefix.count > o.maxNewTokens {
            throw ValidationError("\(prefixIds != nil ? "--prefix-ids" : "--prefix") is \(o.prefix.count) tokens, longer than --max-new-tokens \(o.maxNewTokens) (which counts the prefix)")
        }
        if let logprobs { o.logprobs = logprobs }
        do { try o.validate(vocabularySize: vocabularySize) } catch let error as GenerationError {
            throw ValidationError(cliMessage(error))
        }
        return o
    }

    /// Ids outside the model's vocabulary, reported with its size and where right ids come from.
    private func checkIdsFit(_ prompt: [Int], vocabularySize: Int) throws {
        guard let bad = prompt.first(where: { $0 >= vocabularySize }) else { return }
        let hint = model.model.map { "; `t5 tokenize --model \($0) \"TEXT\"` prints the ids of its tokenizer "
            + "(the shipped demo model has its own \(demoVocabularySize)-piece vocabulary)" }
            ?? " (the default model: the shipped demo model has its own \(demoVocabularySize)-piece vocabulary, not the standard "
            + "T5 one); `t5 tokenize \"TEXT\"` prints its ids"
        throw InputError(message: "--ids: token id \(bad) is outside the vocabulary 0..<\(vocabularySize) of this model\(hint)")
    }

    private func runBatch(_ generator: T5Generator, options: GenerationOptions, seed: UInt64?,
                          items: [(object: [String: Any], prompt: String)], folder: ModelFolder, exemplars: [CoTExemplar]?) async throws {
        if chainOfThought.reasons {
            let mode = try chainOfThought.mode(folder: folder, exemplars: exemplars)
            for item in items {
                let r = try await generator.reason(question: item.prompt, mode: mode, selfConsistency: chainOfThought.selfConsistency,
                                                   inputBudget: chainOfThought.inputBudget, options: options)
                var out = item.object
                out.merge(reasonedJSON(r, question: item.prompt, seed: seed, loadMs: nil)) { _, new in new }
                writeOut(try jsonLine(out) + "\n")
            }
            return
        }
        for chunk in stride(from: 0, to: items.count, by: batchSize) {
            let slice = Array(items[chunk..<min(chunk + batchSize, items.count)])
            let results = try await generator.generate(prompts: slice.map(\.prompt), options: options)
            for (item, g) in zip(slice, results) {
                var out = item.object
                out.merge(generationJSON(g, prompt: item.prompt, seed: seed, loadMs: nil)) { _, new in new }
                writeOut(try jsonLine(out) + "\n")
            }
        }
    }

    // MARK: - JSON

    private func timingsJSON(_ t: GenerationTimings, loadMs: Double?) -> [String: Any] {
        var o: [String: Any] = ["tokenize_ms": t.tokenizeMs, "generate_ms": t.generateMs, "tokens_per_second": t.tokensPerSecond]
        if let loadMs { o["load_ms"] = loadMs }
        return o
    }

    private func generationJSON(_ g: Generation, prompt: String, seed: UInt64?, loadMs: Double?) -> [String: Any] {
        var o: [String: Any] = [
            "prompt": prompt, "text": g.text, "ids": g.tokens, "finish_reason": g.finishReason.rawValue,
            "prompt_tokens": g.promptTokens, "generated_tokens": g.tokens.count, "timings": timingsJSON(g.timings, loadMs: loadMs),
        ]
        if let score = g.score { o["score"] = Double(score) }
        if let logprobs = g.sequences.first?.sequence.logprobs { o["logprobs"] = logprobsJSON(logprobs) }
        if let seed { o["seed"] = seed }
        if g.sequences.count > 1 {
            o["sequences"] = g.sequences.map { s -> [String: Any] in
                var e: [String: Any] = ["text": s.text, "ids": s.sequence.tokens, "finish_reason": s.sequence.finishReason.rawValue]
                if let score = s.sequence.score { e["score"] = Double(score) }
                if let logprobs = s.sequence.logprobs { e["logprobs"] = logprobsJSON(logprobs) }
                return e
            }
        }
        return o
    }

    /// `[{"id": ID, "logprob": LP, "top": [[ID, LP], ...]}, ...]`, one entry per generated token.
    private func logprobsJSON(_ entries: [TokenLogprob]) -> [[String: Any]] {
        entries.map { e in
            ["id": e.id, "logprob": Double(e.logprob), "top": e.top.map { [$0.id, Double($0.logprob)] as [Any] }]
        }
    }

    private func reasonedJSON(_ r: ReasonedAnswer, question: String, seed: UInt64?, loadMs: Double?) -> [String: Any] {
        var o: [String: Any] = [
            "question": question, "prompt": r.prompt, "reasoning": r.reasoning, "answer": r.answer, "votes": r.votes,
            "paths": r.paths, "exemplars_used": r.exemplarsUsed, "prompt_tokens": r.promptTokens,
            "generated_tokens": r.generatedTokens, "timings": timingsJSON(r.timings, loadMs: loadMs),
        ]
        if let seed { o["seed"] = seed }
        return o
    }
}

/// Size of the shipped demo model's own vocabulary (Models/demo-t5), named when ids do not fit it.
let demoVocabularySize = 475

/// The options of --choices ("yes,no,maybe") or --choices-file (one per line); blank entries are skipped, none
/// left is an error naming `flag`.
func parseChoices(_ text: String, flag: String, separator: Character = ",") throws -> [String] {
    let options = text.split(separator: separator).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    guard !options.isEmpty else { throw ValidationError("\(flag) is empty: give at least one option") }
    return options
}

/// Parses "1,2,3" (spaces allowed) into token ids, naming the bad piece on failure.
func parseIds(_ text: String) throws -> [Int] {
    let pieces = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !pieces.isEmpty else { throw ValidationError("--ids is empty: give at least one token id") }
    return try pieces.map { piece in
        guard let id = Int(piece), id >= 0 else { throw ValidationError("--ids: '\(piece)' is not a token id") }
        return id
    }
}
