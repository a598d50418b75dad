// Text in, text out against transformers: tokenizer + model + decoding + detokenizer on the `text-tiny`
// fixture (real T5 vocabulary, tiny random weights), through the library and the `t5` command.
import Foundation
import Testing
@testable import T5Engine

struct TextReference: Decodable {
    struct Case: Decodable {
        let prompt: String
        let inputIds: [Int]
        let greedyIds: [Int]
        let text: String
        let encoderOutput: [Float]
        let meanPooled: [Float]
        enum CodingKeys: String, CodingKey {
            case prompt, text
            case inputIds = "input_ids", greedyIds = "greedy_ids", encoderOutput = "encoder_output", meanPooled = "mean_pooled"
        }
    }
    struct Beam: Decodable {
        let prompt: String
        let kwargs: [String: KwargValue]
        let sequences: [[Int]]
        let texts: [String]
    }
    let maxNewTokens: Int
    let cases: [Case]
    let beam: [Beam]
    enum CodingKeys: String, CodingKey { case cases, beam, maxNewTokens = "max_new_tokens" }

    static func load() throws -> TextReference {
        let url = Fixtures.root.appendingPathComponent("reference/text-tiny.text.json")
        return try JSONDecoder().decode(TextReference.self, from: Data(contentsOf: url))
    }
}

@Suite struct TextParityTests {
    let directory = Fixtures.modelDirectory("text-tiny")

    @Test func generateAndEmbedMatchTransformers() async throws {
        let ref = try TextReference.load()
        let t5 = try T5Generator(directory: directory)
        var options = t5.defaultOptions
        options.maxNewTokens = ref.maxNewTokens
        for c in ref.cases {
            #expect(try t5.tokenizer.encodeWithEOS(c.prompt) == c.inputIds, "\(c.prompt)")
            let g = try await t5.generate(prompt: c.prompt, options: options)
            #expect(g.tokens == c.greedyIds, "\(c.prompt)")
            #expect(g.text == c.text, "\(c.prompt)")
            let e = try t5.embed(text: c.prompt)
            let (err, scale) = maxAbsError(e.tokens.flatMap { $0 }, c.encoderOutput)
            #expect(err <= relativeTolerance * scale, "\(c.prompt): encoder err \(err)")
            let (perr, pscale) = maxAbsError(e.pooled, c.meanPooled)
            #expect(perr <= relativeTolerance * pscale, "\(c.prompt): pooled err \(perr)")
        }
    }

    @Test func beamSearchTextsMatchTransformers() async throws {
        let ref = try TextReference.load()
        let t5 = try T5Generator(directory: directory)
        for b in ref.beam {
            let g = try await t5.generate(prompt: b.prompt, options: try options(from: b.kwargs))
            #expect(g.sequences.map(\.sequence.tokens) == b.sequences, "\(b.prompt)")
            #expect(g.sequences.map(\.text) == b.texts, "\(b.prompt)")
        }
    }

    @Test func commandLinePrintsTheSameText() throws {
        let ref = try TextReference.load()
        let c = try #require(ref.cases.first)
        for streamFlag in ["--stream", "--no-stream"] {
            let r = try CLI.run(["generate", "--model", directory.path, "--max-new-tokens", "\(ref.maxNewTokens)", streamFlag, c.prompt])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == c.text + "\n", "\(streamFlag)")
        }
        let j = try CLI.run(["generate", "--model", directory.path, "--max-new-tokens", "\(ref.maxNewTokens)", "--json", c.prompt])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(object["ids"] as? [Int] == c.greedyIds)
        #expect(object["text"] as? String == c.text)
        #expect(object["prompt_tokens"] as? Int == c.inputIds.count)
        // The same prompt from stdin and from a batch file.
        let s = try CLI.run(["generate", "--model", directory.path, "--max-new-tokens", "\(ref.maxNewTokens)"], stdin: c.prompt + "\n")
        #expect(s.stdout == c.text + "\n")
        let batchFile = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: batchFile) }
        let lines = ref.cases.prefix(3).map { try! String(decoding: JSONSerialization.data(withJSONObject: ["prompt": $0.prompt, "n": 1]), as: UTF8.self) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: batchFile)
        let batch = try CLI.run(["generate", "--model", directory.path, "--max-new-tokens", "\(ref.maxNewTokens)", "--batch-file", batchFile.path])
        #expect(batch.status == 0, "\(batch.stderr)")
        let outs = batch.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(outs.map { $0["text"] as? String } == ref.cases.prefix(3).map(\.text))
        #expect(outs.allSatisfy { $0["n"] as? Int == 1 })
    }

    /// The embedding example (Examples/EmbedT5) runs end to end against a model folder.
    @Test func embeddingExampleRuns() throws {
        let r = try CLI.run([directory.path], executable: "EmbedT5Example")
        #expect(r.status == 0, "\(r.stderr)")
        let prefixes = r.stdout.split(separator: "\n").map { $0.split(separator: ":").first.map(String.init) ?? "" }
        #expect(prefixes == ["generate", "stream", "reason", "reason", "embed", "digits only"])
    }
}
