// Prompts far past the trained length (2,048 and 4,096 tokens; v11-gated's max_distance is 128) against
// transformers (reference/v11-gated.long.json, Scripts/make_fixtures.py --long-only), within the documented memory
// bound; and what happens over --max-prompt-tokens (--truncate left|right|error).
import Foundation
import Testing
@testable import T5Engine
@testable import T5Modeling

struct LongReference: Decodable {
    struct Case: Decodable {
        let length: Int
        let prompt: [Int]
        let greedyIds: [Int]
        let stepLogits: [[Float]]
        let encoderRows: [Int]
        let encoderOutputRows: [[Float]]
        enum CodingKeys: String, CodingKey {
            case length, prompt
            case greedyIds = "greedy_ids", stepLogits = "step_logits", encoderRows = "encoder_rows"
            case encoderOutputRows = "encoder_output_rows"
        }
    }
    let maxNewTokens: Int
    let cases: [Case]
    enum CodingKeys: String, CodingKey { case cases, maxNewTokens = "max_new_tokens" }
}

@Suite struct LongInputTests {
    /// The 2,048-token case always; the 4,096-token case and the encoder-row checks with T5_FULL_LONG_CHECK=1 (a debug
    /// build encodes 2,048 tokens in about 30 s and 4,096 in about 2 minutes; use `swift test -c release`).
    @Test func longPromptsMatchTransformers() throws {
        let url = Fixtures.root.appendingPathComponent("reference/v11-gated.long.json")
        let ref = try JSONDecoder().decode(LongReference.self, from: Data(contentsOf: url))
        #expect(ref.cases.map(\.length) == [2048, 4096])
        let full = ProcessInfo.processInfo.environment["T5_FULL_LONG_CHECK"] != nil
        let c = try T5Config.load(from: Fixtures.modelDirectory("v11-gated"))
        for lc in ref.cases {
            // The documented bound (RunState: encoder scratch + decoder state) is what the request is checked against:
            // a limit of exactly the bound runs, one byte less is refused before anything is allocated.
            let bound = EncoderState.bytes(config: c, rows: lc.length, length: lc.length, gated: true)
                + DecoderState.bytes(config: c, batch: 1, prompts: 1, maxSteps: ref.maxNewTokens, encoderLength: lc.length,
                                     gated: true, reorderable: false)
            let tight = try T5Model(directory: Fixtures.modelDirectory("v11-gated"), memoryLimitBytes: Int(bound) - 1)
            #expect(throws: RequestError.self) { _ = try tight.generateGreedy(prompts: [lc.prompt], maxNewTokens: ref.maxNewTokens) }
            guard lc.length == 2048 || full else { continue }
            let model = try T5Model(directory: Fixtures.modelDirectory("v11-gated"), memoryLimitBytes: Int(bound))
            if full {
                let hidden = try model.encode(prompts: [lc.prompt]).hiddenStates[0]
                for (row, expected) in zip(lc.encoderRows, lc.encoderOutputRows) {
                    let (err, scale) = maxAbsError(Array(hidden[(row * c.dModel)..<((row + 1) * c.dModel)]), expected)
                    #expect(err <= relativeTolerance * scale, "length \(lc.length) encoder row \(row): err \(err)")
                }
            }
            // One encoder pass: greedy decoding by hand over a session (argmax each step, as generate() without
            // processors), comparing the recorded step logits on the way.
            let session = try DecodingSession(model: model, prompts: [lc.prompt], maxSteps: ref.maxNewTokens)
            var ids: [Int] = [], token = c.decoderStartTokenId
            for step in 0..<ref.maxNewTokens {
                try session.step([token])
                let logits = session.logits(row: 0)
                if step < lc.stepLogits.count {
                    let (err, scale) = maxAbsError(logits, lc.stepLogits[step])
                    #expect(err <= relativeTolerance * scale, "length \(lc.length) step \(step): logits err \(err)")
                }
                token = try #require(logits.withUnsafeBufferPointer(argmax))
                ids.append(token)
                if token == c.eosTokenId { break }
            }
            #expect(ids == lc.greedyIds, "length \(lc.length)")
            print("LongInput \(lc.length): greedy equal \(ids == lc.greedyIds), bound \(Int(bound) >> 20) MiB")
        }
    }

    @Test func truncationKeepsEOSAndRefusesByDefault() throws {
        var o = GenerationOptions()
        let ids = [10, 11, 12, 13, 14, 1]
        #expect(try o.limitPrompt(ids, eos: 1) == ids)
        o.maxPromptTokens = 4
        #expect(throws: GenerationError.promptTooLong(prompt: 0, tokens: 6, limit: 4)) { _ = try o.limitPrompt(ids, eos: 1) }
        o.truncation = .right
        #expect(try o.limitPrompt(ids, eos: 1) == [10, 11, 12, 1])
        o.truncation = .left
        #expect(try o.limitPrompt(ids, eos: 1) == [12, 13, 14, 1])
        #expect(try o.limitPrompt([10, 11, 12, 13, 14], eos: 1) == [11, 12, 13, 14])
        o.maxPromptTokens = 0
        #expect(throws: GenerationError.self) { try o.validate() }
    }

    @Test func cliTruncates() throws {
        let tiny = Fixtures.modelDirectory("text-tiny").path
        let prompt = "summarize: The old lighthouse keeper climbed the spiral staircase every evening at dusk."
        let refused = try CLI.run(["generate", "--model", tiny, prompt, "--max-prompt-tokens", "8", "--max-new-tokens", "4"])
        #expect(refused.status != 0 && refused.stderr.contains("--max-prompt-tokens"), "\(refused.stderr)")
        // --truncate right on 8 tokens generates what the first 7 tokens + EOS generate.
        let tokenizer = try T5Tokenizer(contentsOf: Fixtures.modelDirectory("text-tiny").appendingPathComponent("tokenizer.json"))
        let cut = Array(tokenizer.encode(prompt, addEOS: false).prefix(7)) + [1]
        let right = try CLI.run(["generate", "--model", tiny, prompt, "--max-prompt-tokens", "8", "--truncate", "right",
                                 "--max-new-tokens", "4", "--json"])
        let direct = try CLI.run(["generate", "--model", tiny, "--ids", cut.map(String.init).joined(separator: ","),
                                  "--max-new-tokens", "4", "--json"])
        let a = try JSONSerialization.jsonObject(with: Data(right.stdout.utf8)) as? [String: Any]
        let b = try JSONSerialization.jsonObject(with: Data(direct.stdout.utf8)) as? [String: Any]
        #expect(a?["ids"] as? [Int] == b?["ids"] as? [Int] && a?["ids"] != nil, "\(right.stderr) \(direct.stderr)")
        #expect(a?["prompt_tokens"] as? Int == 8)
        let bad = try CLI.run(["generate", "--model", tiny, prompt, "--truncate", "middle", "--max-prompt-tokens", "8"])
        #expect(bad.status != 0 && bad.stderr.contains("--truncate"))
    }
}
