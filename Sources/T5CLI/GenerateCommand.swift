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
        comma-separated token ids in, ids out.
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var chainOfThought: CoTOptions

    @Argument(help: "The prompt text.")
    var text: String?
    @Option(name: .long, help: "The prompt text (same as the argument).")
    var prompt: String?
    @Option(name: .long, help: "Read the prompt from this file.")
    var promptFile: String?
    @Option(name: .long, help: "Prompt as comma-separated token ids, e.g. \"13959,1566,12,1\"; prints ids.")
    var ids: String?
    @Option(name: .long, help: "JSON lines in (one prompt per line), JSON lines out.")
    var batchFile: String?
    @Option(name: .long, help: "Prompts per model batch with --batch-file.")
    var batchSize: Int = 8
    @Flag(name: .long, inversion: .prefixedNo, help: "Print tokens as they are generated (default: on when stdout is a terminal).")
    var stream: Bool?
    @Flag(name: .long, help: "Print one JSON object with text, ids, answer, votes, token counts and timings.")
    var json = false

    func validate() throws {
        let sources = [text, prompt, promptFile, ids, batchFile].compactMap { $0 }.count
        guard sources <= 1 else { throw ValidationError("give one prompt source: an argument, --prompt, --prompt-file, --ids or --batch-file") }
        if let ids { _ = try parseIds(ids) }
        guard batchSize >= 1, batchSize <= 4096 else { throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)") }
        if ids != nil && chainOfThought.reasons { throw ValidationError("--ids cannot be combined with --cot or --self-consistency") }
    }

    func run() async throws {
        let start = ContinuousClock.now
        let folder = try model.loadFolder(tokenizer: ids == nil)
        let loadMs = milliseconds(ContinuousClock.now - start)
        if let ids {
            try runIds(try parseIds(ids), folder: folder, loadMs: loadMs)
            return
        }
        let generator = try T5Generator(folder: folder)
        let options = chainOfThought.samplingDefaults(try decoding.apply(to: generator.defaultOptions), decoding: decoding)
        if let batchFile {
            try await runBatch(generator, options: options, file: batchFile, folder: folder)
            return
        }
        let text = try readPrompt()
        if chainOfThought.reasons {
            let r = try await generator.reason(question: text, mode: try chainOfThought.mode(folder: folder),
                                               selfConsistency: chainOfThought.selfConsistency,
                                               inputBudget: chainOfThought.inputBudget, options: options)
            if json {
                writeOut(try jsonLine(reasonedJSON(r, question: text, loadMs: loadMs)) + "\n")
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
            writeOut(try jsonLine(generationJSON(g, prompt: text, loadMs: loadMs)) + "\n")
        } else {
            for (i, s) in g.sequences.enumerated() {
                writeOut(g.sequences.count > 1 ? "[\(i + 1)] \(s.text)\n" : "\(s.text)\n")
            }
        }
    }

    // MARK: - Sources

    private func readPrompt() throws -> String {
        if let text { return text }
        if let prompt { return prompt }
        if let promptFile {
            guard let data = FileManager.default.contents(atPath: promptFile) else {
                throw ValidationError("--prompt-file \(promptFile): cannot read it")
            }
            guard let s = String(data: data, encoding: .utf8) else { throw ValidationError("--prompt-file \(promptFile): not UTF-8 text") }
            return s.trimmingCharacters(in: .newlines)
        }
        if isatty(STDIN_FILENO) == 0 {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(data: data, encoding: .utf8) else { throw ValidationError("standard input is not UTF-8 text") }
            return s.trimmingCharacters(in: .newlines)
        }
        throw ValidationError("no prompt: give it as an argument, --prompt, --prompt-file, --ids, --batch-file or on standard input")
    }

    // MARK: - Modes

    private func runIds(_ prompt: [Int], folder: ModelFolder, loadMs: Double) throws {
        let options = try decoding.apply(to: folder.generationDefaults)
        let loaded = ContinuousClock.now
        let result = try folder.model.generate(prompts: [prompt], options: options)[0]
        let done = ContinuousClock.now
        if json {
            var object: [String: Any] = [
                "ids": result[0].tokens, "prompt_ids": prompt, "finish_reason": result[0].finishReason.rawValue,
                "load_ms": loadMs, "generate_ms": milliseconds(done - loaded),
            ]
            if result.count > 1 { object["sequences"] = result.map(\.tokens) }
            writeOut(try jsonLine(object) + "\n")
        } else {
            for s in result { writeOut(s.tokens.map(String.init).joined(separator: ",") + "\n") }
        }
    }

    private func runBatch(_ generator: T5Generator, options: GenerationOptions, file: String, folder: ModelFolder) async throws {
        let items = try readJSONLines(file, option: "--batch-file").map { line, object in
            guard let prompt = (object["prompt"] ?? object["text"] ?? object["question"]) as? String else {
                throw ValidationError("--batch-file \(file):\(line): expected a JSON object with a \"prompt\" string")
            }
            return (object: object, prompt: prompt)
        }
        if chainOfThought.reasons {
            let mode = try chainOfThought.mode(folder: folder)
            for item in items {
                let r = try await generator.reason(question: item.prompt, mode: mode, selfConsistency: chainOfThought.selfConsistency,
                                                   inputBudget: chainOfThought.inputBudget, options: options)
                var out = item.object
                out.merge(reasonedJSON(r, question: item.prompt, loadMs: nil)) { _, new in new }
                writeOut(try jsonLine(out) + "\n")
            }
            return
        }
        for chunk in stride(from: 0, to: items.count, by: batchSize) {
            let slice = Array(items[chunk..<min(chunk + batchSize, items.count)])
            let results = try await generator.generate(prompts: slice.map(\.prompt), options: options)
            for (item, g) in zip(slice, results) {
                var out = item.object
                out.merge(generationJSON(g, prompt: item.prompt, loadMs: nil)) { _, new in new }
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

    private func generationJSON(_ g: Generation, prompt: String, loadMs: Double?) -> [String: Any] {
        var o: [String: Any] = [
            "prompt": prompt, "text": g.text, "ids": g.tokens, "finish_reason": g.finishReason.rawValue,
            "prompt_tokens": g.promptTokens, "generated_tokens": g.tokens.count, "timings": timingsJSON(g.timings, loadMs: loadMs),
        ]
        if let score = g.score { o["score"] = Double(score) }
        if g.sequences.count > 1 {
            o["sequences"] = g.sequences.map { s -> [String: Any] in
                var e: [String: Any] = ["text": s.text, "ids": s.sequence.tokens, "finish_reason": s.sequence.finishReason.rawValue]
                if let score = s.sequence.score { e["score"] = Double(score) }
                return e
            }
        }
        return o
    }

    private func reasonedJSON(_ r: ReasonedAnswer, question: String, loadMs: Double?) -> [String: Any] {
        [
            "question": question, "prompt": r.prompt, "reasoning": r.reasoning, "answer": r.answer, "votes": r.votes,
            "paths": r.paths, "exemplars_used": r.exemplarsUsed, "prompt_tokens": r.promptTokens,
            "generated_tokens": r.generatedTokens, "timings": timingsJSON(r.timings, loadMs: loadMs),
        ]
    }
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
