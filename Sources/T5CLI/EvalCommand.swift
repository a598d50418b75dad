// `t5 eval`: accuracy of a model on a JSONL task file (prompt + reference answer), with or without CoT.
import ArgumentParser
import Foundation
import T5Engine

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a model on a JSONL file of {\"prompt\", \"answer\"} items: exact-match accuracy and throughput.",
        discussion: """
        Each line needs a "prompt" (or "question") and an "answer". The answer is extracted from the generated text \
        ("So the answer is X." / "The answer is X", else the last number, else the whole text) and compared with \
        the reference after trimming spaces and a final period, ignoring case. With --rank each item also needs \
        "options" (a list of strings): nothing is generated; the option with the highest log-likelihood given the \
        prompt is the prediction (rank classification, as Flan is evaluated on multiple-choice tasks).
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var decoding: DecodingOptions
    @OptionGroup var chainOfThought: CoTOptions

    @Option(name: .long, help: "The JSONL task file; - reads standard input.")
    var data: String
    @Option(name: .long, parsing: .unconditional, help: "Score only the first N items.")
    var limit: Int?
    @Option(name: .long, parsing: .unconditional, help: "Prompts per model batch (without CoT self-consistency).")
    var batchSize: Int = 8
    @Flag(name: .long, help: "Rank classification: predict the item's most likely \"options\" entry instead of generating.")
    var rank = false
    @Flag(name: .long, help: "Print every item's prediction.")
    var items = false
    @Flag(name: .long, help: "Print one JSON object with the results.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be >= 1, got \(limit)") }
        guard batchSize >= 1, batchSize <= 4096 else { throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)") }
        try requireOneStandardInputReader([("--data -", data == "-"), ("--exemplars -", chainOfThought.exemplarsFromStandardInput)])
        if rank && chainOfThought.reasons { throw ValidationError("--rank scores the options directly: it cannot be combined with --cot or --self-consistency") }
    }

    func run() async throws {
        let tasks = try loadItems()
        let exemplars = try chainOfThought.readExemplars()
        let folder = try model.loadFolder()
        let generator = try T5Generator(folder: folder)
        let chosen = chainOfThought.samplingDefaults(try decoding.apply(to: generator.defaultOptions, tokenizer: folder.tokenizer, vocabularySize: folder.model.config.vocabSize), decoding: decoding)
        let (options, seed, drawn) = decoding.seeded(chosen, samples: chainOfThought.samples(chosen))
        reportSeed(seed, drawn: drawn, json: json)
        let mode = try chainOfThought.mode(folder: folder, exemplars: exemplars)
        let start = ContinuousClock.now
        var predictions: [(text: String, answer: String, votes: Int)] = []
        var generatedTokens = 0
        let progress = ProgressBar(label: "eval", total: tasks.count) { done, total in "\(done)/\(total) items" }
        progress.update(0)

        do {
            if rank {
                for t in tasks {
                    let ranked = try await generator.rank(prompt: t.prompt, choices: t.options ?? [])
                    predictions.append((ranked.bestText, ranked.bestText, 1))
                    progress.update(predictions.count)
                }
            } else if chainOfThought.selfConsistency > 1 {
                for t in tasks {
                    let r = try await generator.reason(question: t.prompt, mode: mode, selfConsistency: chainOfThought.selfConsistency,
                                                       inputBudget: chainOfThought.inputBudget, options: options)
                    predictions.append((r.paths.first ?? "", r.answer, r.votes))
                    generatedTokens += r.generatedTokens
                    progress.update(predictions.count)
                }
            } else {
                let prompts = try tasks.map {
                    try generator.cotPrompt(question: $0.prompt, mode: mode, inputBudget: chainOfThought.inputBudget).prompt
                }
                for chunk in stride(from: 0, to: prompts.count, by: batchSize) {
                    let slice = Array(prompts[chunk..<min(chunk + batchSize, prompts.count)])
                    for g in try await generator.generate(prompts: slice, options: options) {
                        predictions.append((g.text, AnswerExtraction.answer(from: g.text), 1))
                        generatedTokens += g.tokens.count
                    }
                    progress.update(predictions.count)
                }
            }
        } catch {
            progress.abandon()
            throw error
        }
        let seconds = milliseconds(ContinuousClock.now - start) / 1000
        let correct = zip(tasks, predictions).map { normalized($0.answer) == normalized($1.answer) }
        let right = correct.filter { $0 }.count
        let accuracy = tasks.isEmpty ? 0 : Double(right) / Double(tasks.count)
        progress.finish(String(format: "eval: %d items in %.1f s (%.1f items/s), %d correct", tasks.count, seconds,
                               Double(tasks.count) / max(seconds, 1e-9), right))

        if json {
            var object: [String: Any] = [
                "items": tasks.count, "correct": right, "accuracy": accuracy, "cot": chainOfThought.cot.rawValue,
                "self_consistency": chainOfThought.selfConsistency, "seconds": seconds,
                "items_per_second": Double(tasks.count) / max(seconds, 1e-9),
                "generated_tokens": generatedTokens, "tokens_per_second": Double(generatedTokens) / max(seconds, 1e-9),
            ]
            if let seed { object["seed"] = seed }
            if items {
                object["predictions"] = zip(tasks, zip(predictions, correct)).map { t, pc in
                    ["prompt": t.prompt, "reference": t.answer, "answer": pc.0.answer, "text": pc.0.text,
                     "votes": pc.0.votes, "correct": pc.1] as [String: Any]
                }
            }
            writeOut(try jsonLine(object) + "\n")
            return
        }
        if items {
            for (t, (p, ok)) in zip(tasks, zip(predictions, correct)) {
                writeOut("\(ok ? "✓" : "✗") expected \(t.answer) got \(p.answer)  | \(t.prompt.replacingOccurrences(of: "\n", with: " "))\n")
            }
        }
        writeOut(String(format: "accuracy %.1f%% (%d/%d), cot %@, %.1f items/s, %.1f tokens/s\n",
                        accuracy * 100, right, tasks.count, chainOfThought.cot.rawValue,
                        Double(tasks.count) / max(seconds, 1e-9), Double(generatedTokens) / max(seconds, 1e-9)))
    }

    private func loadItems() throws -> [(prompt: String, answer: String, options: [String]?)] {
        var out: [(String, String, [String]?)] = []
        for (n, o) in try readJSONLines(data, option: "--data") {
            guard let prompt = (o["prompt"] ?? o["question"]) as? String else {
                throw InputError(message: "--data \(data):\(n): expected a JSON object with \"prompt\" and \"answer\"")
            }
            try requirePrompt(prompt, what: "--data \(data):\(n): the prompt")
            let answer: String
            if let s = o["answer"] as? String { answer = s } else if let number = o["answer"] as? NSNumber { answer = number.stringValue } else {
                throw InputError(message: "--data \(data):\(n): missing \"answer\"")
            }
            var options: [String]?
            if rank {
                guard let list = o["options"] as? [Any], !list.isEmpty,
                      let strings = Optional(list.compactMap { ($0 as? String) ?? ($0 as? NSNumber)?.stringValue }),
                      strings.count == list.count, !strings.contains(where: isBlankPrompt)
                else {
                    throw InputError(message: "--data \(data):\(n): --rank needs \"options\", a non-empty list of non-empty strings")
                }
                options = strings
            }
            out.append((prompt, answer, options))
            if let limit, out.count >= limit { break }
        }
        guard !out.isEmpty else { throw InputError(message: "--data \(data): no items") }
        return out
    }

    private func normalized(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        while t.hasSuffix(".") { t.removeLast() }
        return t.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
