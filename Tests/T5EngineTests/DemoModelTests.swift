// The shipped demo model (Models/demo-t5) against the PyTorch outputs recorded when it was trained:
// tokenizer ids and greedy ids on held-out prompts, and the quick-start command's CoT output.
// CI checks the first rows; T5_FULL_DEMO_CHECK=1 checks all 1,200 (use a release build); T5_DEMO_DIR points it at
// another folder laid out the same way.
import Foundation
import Testing
@testable import T5Engine

struct DemoReferenceRow: Decodable {
    let promptIds: [Int]
    let greedyIds: [Int]   // starts with the decoder start token 0
    let text: String
    enum CodingKeys: String, CodingKey { case text, promptIds = "prompt_ids", greedyIds = "greedy_ids" }
}

struct DemoHeldoutItem: Decodable {
    let prompt: String
    let answer: String
    let cotPrompt: String
    enum CodingKeys: String, CodingKey { case prompt, answer, cotPrompt = "cot_prompt" }
}

enum Demo {
    /// Models/demo-t5, or `T5_DEMO_DIR` (e.g. the training run's full-precision folder, which the training script
    /// gives its own heldout_reference.jsonl).
    static let directory = ProcessInfo.processInfo.environment["T5_DEMO_DIR"].map { URL(fileURLWithPath: $0) }
        ?? Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Models/demo-t5")

    static func lines<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// heldout_reference.jsonl holds the 600 CoT prompts first, then the 600 direct ones, in heldout.jsonl order.
    static func promptTexts() throws -> [String] {
        let items = try lines("heldout.jsonl", as: DemoHeldoutItem.self)
        return items.map(\.cotPrompt) + items.map(\.prompt)
    }
}

@Suite struct DemoModelTests {
    let full = ProcessInfo.processInfo.environment["T5_FULL_DEMO_CHECK"] != nil

    @Test func tokenizerMatchesOnEveryHeldOutPrompt() throws {
        let t5 = try T5Generator(directory: Demo.directory)
        let rows = try Demo.lines("heldout_reference.jsonl", as: DemoReferenceRow.self)
        let texts = try Demo.promptTexts()
        #expect(rows.count == texts.count && rows.count >= 1000)
        for (row, text) in zip(rows, texts) {
            #expect(try t5.tokenizer.encodeWithEOS(text) == row.promptIds, "\(text)")
        }
    }

    @Test func greedyIdsAndTextMatchPyTorch() throws {
        let t5 = try T5Generator(directory: Demo.directory)
        let rows = try Demo.lines("heldout_reference.jsonl", as: DemoReferenceRow.self)
        // CI: 6 CoT and 6 direct prompts; the full check covers every row.
        let picked = full ? Array(rows.indices) : Array(0..<6) + Array(600..<606)
        var options = GenerationOptions()
        options.maxNewTokens = 128
        var mismatches = 0
        for chunk in stride(from: 0, to: picked.count, by: 16) {
            let batch = picked[chunk..<min(chunk + 16, picked.count)]
            let outs = try t5.model.generate(prompts: batch.map { rows[$0].promptIds }, options: options)
            for (i, out) in zip(batch, outs) {
                let expected = Array(rows[i].greedyIds.dropFirst())
                if out[0].tokens != expected { mismatches += 1 }
                #expect(out[0].tokens == expected, "row \(i)")
                #expect(t5.tokenizer.decodeSkippingSpecial(out[0].tokens) == rows[i].text, "row \(i)")
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(picked.count) rows differ")
    }

    @Test func quickStartCommandPrintsReasoningAndAnswer() throws {
        let items = try Demo.lines("heldout.jsonl", as: DemoHeldoutItem.self)
        let rows = try Demo.lines("heldout_reference.jsonl", as: DemoReferenceRow.self)
        // PyTorch's CoT text for the first question, split at its answer sentence.
        let text = rows[0].text
        let marker = try #require(text.range(of: "So the answer is"))
        let reasoning = text[..<marker.lowerBound].trimmingCharacters(in: .whitespaces)
        var answer = text[marker.upperBound...].trimmingCharacters(in: .whitespaces)
        if answer.hasSuffix(".") { answer.removeLast() }
        // --model defaults to the shipped Models/demo-t5 when run from the package root.
        let r = try CLI.run(["generate", "--model", Demo.directory.path, "--cot", "zero-shot", items[0].prompt])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "Reasoning: \(reasoning)\nAnswer: \(answer)\n")
    }
}
