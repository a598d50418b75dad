// CoT prompt building within a budget, answer extraction and majority voting.
import Foundation
import Testing
@testable import T5Engine

@Suite struct ChainOfThoughtTests {
    @Test func extractsTheAnswerSentence() {
        #expect(AnswerExtraction.answer(from: "Tom has 3 apples. 3 + 4 = 7. So the answer is 7.") == "7")
        #expect(AnswerExtraction.answer(from: "the answer is yes") == "yes")
        #expect(AnswerExtraction.answer(from: "First 2, then The answer is 12.\nextra") == "12")
        #expect(AnswerExtraction.answer(from: "5 + 5 = 10, minus 1,200 gives -1,190") == "-1190")
        #expect(AnswerExtraction.answer(from: "no number here") == "no number here")
        #expect(AnswerExtraction.reasoning(from: "A. B. So the answer is 4.") == "A. B.")
        #expect(AnswerExtraction.reasoning(from: "A. The answer is 4.") == "A.")
    }

    @Test func lastNumberHandlesDecimalsAndPunctuation() {
        #expect(AnswerExtraction.lastNumber(in: "it costs 2.5 dollars.") == "2.5")
        #expect(AnswerExtraction.lastNumber(in: "the year 1999, then 42.") == "42")
        #expect(AnswerExtraction.lastNumber(in: "none") == nil)
    }

    @Test func majorityVoteBreaksTiesByFirstSeen() {
        #expect(AnswerExtraction.majority(["3", "4", "4", "3", "5"])! == ("3", 2))
        #expect(AnswerExtraction.majority(["3", "4", "4"])! == ("4", 2))
        #expect(AnswerExtraction.majority([]) == nil)
    }

    @Test func zeroShotWrapsTheQuestion() throws {
        let builder = CoTPromptBuilder(mode: .zeroShot(CoTTemplate.named("lets-think")!))
        let (prompt, used) = try builder.build(question: "What is 2 + 2?", countTokens: { $0.count })
        #expect(prompt == "What is 2 + 2?\nLet's think step by step.")
        #expect(used == 0)
    }

    @Test func fewShotDropsExemplarsToFitButNeverTruncatesTheQuestion() throws {
        let e = (1...3).map { CoTExemplar(question: "Q\($0)?", reasoning: "R\($0).", answer: "\($0)") }
        let full = CoTPromptBuilder.fewShotPrompt(question: "Mine?", exemplars: e)
        #expect(full.hasPrefix("Q: Q1?\nA: R1. So the answer is 1.\n\nQ: Q2?"))
        #expect(full.hasSuffix("Q: Mine?\nA:"))
        let twoFit = CoTPromptBuilder.fewShotPrompt(question: "Mine?", exemplars: Array(e.prefix(2))).count
        let builder = CoTPromptBuilder(mode: .fewShot(e), inputBudget: twoFit)
        let (prompt, used) = try builder.build(question: "Mine?", countTokens: { $0.count })
        #expect(used == 2 && prompt.hasSuffix("Q: Mine?\nA:"))
        let tiny = CoTPromptBuilder(mode: .fewShot(e), inputBudget: 5)
        #expect(throws: CoTError.self) { _ = try tiny.build(question: "Mine?", countTokens: { $0.count }) }
    }

    @Test func exemplarFilesLoadAsArrayOrLinesAndReportBadLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cot-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = dir.appendingPathComponent("e.jsonl")
        let jsonl = #"{"question":"a","reasoning":"b","answer":"c"}"# + "\n" + #"{"question":"d","reasoning":"e","answer":"f"}"# + "\n"
        try Data(jsonl.utf8).write(to: lines)
        #expect(try CoTExemplar.load(from: lines).count == 2)
        let array = dir.appendingPathComponent("e.json")
        try Data(#"[{"question":"a","reasoning":"b","answer":"c"}]"#.utf8).write(to: array)
        #expect(try CoTExemplar.load(from: array).count == 1)
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data("{\"question\":\"a\"}\n".utf8).write(to: bad)
        #expect {
            try CoTExemplar.load(from: bad)
        } throws: { error in
            if case CoTError.badExemplar(_, let line, _) = error { return line == 1 }
            return false
        }
    }

    // MARK: Self-consistency defaults, shared by the library and the CLI

    @Test func selfConsistencyDefaultsAreWangEtAl() {
        var o = GenerationOptions(); o.maxNewTokens = 9; o.seed = 5
        let d = o.withSelfConsistencyDefaults()
        #expect(GenerationOptions.selfConsistencyTemperature == 0.7 && GenerationOptions.selfConsistencyTopK == 40)
        #expect(d.temperature == 0.7 && d.topK == 40)
        #expect(d.maxNewTokens == 9 && d.seed == 5 && d.doSample == o.doSample)
    }

    /// `reason` without options samples self-consistency paths at the shared defaults, not at the plain
    /// defaults (temperature 1, top-k 50) it used before.
    @Test func reasonWithoutOptionsUsesTheSelfConsistencyDefaults() async throws {
        var defaults = GenerationOptions(); defaults.maxNewTokens = 12; defaults.seed = 11
        let g = T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer(), defaultOptions: defaults)
        let implicit = try await g.reason(question: "2+2?", mode: .zeroShot(.default), selfConsistency: 3)
        let shared = try await g.reason(question: "2+2?", mode: .zeroShot(.default), selfConsistency: 3,
                                        options: defaults.withSelfConsistencyDefaults())
        let plain = try await g.reason(question: "2+2?", mode: .zeroShot(.default), selfConsistency: 3, options: defaults)
        #expect(implicit.paths.count == 3)
        #expect(implicit.paths == shared.paths)
        #expect(implicit.paths != plain.paths)
    }

    @Test func reasonRefusesAnEmptyQuestion() async throws {
        let g = T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer())
        for question in ["", "  \n\t"] {
            await #expect {
                _ = try await g.reason(question: question, mode: .zeroShot(.default))
            } throws: { error in
                guard case GenerationError.invalidOption(let name, _, let reason) = error else { return false }
                return name == "question" && reason.contains("empty")
            }
        }
    }
}
