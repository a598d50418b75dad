// `t5 tokenize`: exact output for ids and JSON lines, and one-line errors.
import Foundation
import Testing

@Suite struct TokenizeCommandTests {
    /// The standard T5 vocabulary; without --tokenizer, `t5 tokenize` uses the default model's (InstallAndVersionTests).
    static let standard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model").path

    @Test func printsTheIdsTransformersGives() throws {
        // The ids T5TokenizerFast gives for the T5 paper's example (as in TokenizerLoadingTests.standardVocabulary).
        let r = try CLI.run(["tokenize", "--tokenizer", Self.standard, "translate English to German: The house is wonderful."])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "13959,1566,12,2968,10,37,629,19,1627,5,1\n")
    }

    @Test func jsonlAddsIdsAndDecodedKeepingOtherFields() throws {
        let input = #"{"text":"Hello world","id":7}"# + "\n" + #"{"text":"<extra_id_0> x"}"# + "\n"
        let r = try CLI.run(["tokenize", "--tokenizer", Self.standard, "--jsonl"], stdin: input)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 2)
        #expect(lines[0]["ids"] as? [Int] == [8774, 296, 1] && lines[0]["decoded"] as? String == "Hello world")
        #expect(lines[0]["id"] as? Int == 7)
        #expect(lines[1]["ids"] as? [Int] == [32099, 3, 226, 1] && lines[1]["decoded"] as? String == "x")
    }

    @Test func badTokenizerPathIsOneLine() throws {
        let r = try CLI.run(["tokenize", "--tokenizer", "/nonexistent/tok", "x"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr.contains("/nonexistent/tok") && r.stderr.split(separator: "\n").count == 1)
    }
}
