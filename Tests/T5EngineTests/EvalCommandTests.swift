// `t5 eval` on the demo model's held-out file: its accuracy must be what PyTorch's own outputs score.
import Foundation
import Testing

@Suite struct EvalCommandTests {
    @Test func accuracyMatchesThePyTorchOutputs() throws {
        let items = try Demo.lines("heldout.jsonl", as: DemoHeldoutItem.self)
        let rows = try Demo.lines("heldout_reference.jsonl", as: DemoReferenceRow.self)
        // Score PyTorch's CoT texts for the first 12 questions: the words after "So the answer is", without the period.
        let n = 12
        var expected = 0
        for i in 0..<n {
            guard let r = rows[i].text.range(of: "So the answer is", options: .backwards) else { continue }
            var a = rows[i].text[r.upperBound...].trimmingCharacters(in: .whitespaces)
            if a.hasSuffix(".") { a.removeLast() }
            if a == items[i].answer { expected += 1 }
        }
        let r = try CLI.run(["eval", "--model", Demo.directory.path, "--data", Demo.directory.appendingPathComponent("heldout.jsonl").path,
                             "--cot", "zero-shot", "--limit", "\(n)", "--json", "--items"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(o["items"] as? Int == n)
        #expect(o["correct"] as? Int == expected)
        let predictions = try #require(o["predictions"] as? [[String: Any]])
        #expect(predictions.map { $0["text"] as? String } == rows.prefix(n).map(\.text))
    }

    @Test func badDataFilesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("d.jsonl")
        try Data("{\"prompt\": \"a\", \"answer\": \"1\"}\n\n{\"prompt\": \"b\"}\n".utf8).write(to: file)
        let r = try CLI.run(["eval", "--model", Demo.directory.path, "--data", file.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("d.jsonl:3: missing \"answer\""), "\(r.stderr)")
    }
}
