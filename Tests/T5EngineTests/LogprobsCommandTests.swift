// `t5 generate --logprobs K --json` and `--prefix` / `--prefix-ids` on fixture models: the JSON shape, values against
// transformers (reference/v11-gated.logprobs.json), the prefix in the output, and a one-line error per bad input.
import Foundation
import Testing

@Suite struct LogprobsCommandTests {
    let modelPath = Fixtures.modelDirectory("v11-gated").path
    let textModelPath = Fixtures.modelDirectory("text-tiny").path

    func recorded(_ name: String) throws -> LogprobCase {
        try #require(try LogprobCase.load("v11-gated").first { $0.name == name })
    }

    func ids(_ tokens: [Int]) -> String { tokens.map(String.init).joined(separator: ",") }

    func json(_ r: CLIResult) throws -> [String: Any] {
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 1)
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// A "logprobs" array against one recorded sequence: `{"id", "logprob", "top": [[id, logprob], ...]}` per step.
    func expectLogprobs(_ value: Any?, _ ref: LogprobCase.Steps, ids expected: [Int], top k: Int) throws {
        let entries = try #require(value as? [[String: Any]])
        #expect(entries.count == ref.logprobs.count)
        for (t, e) in entries.enumerated() where t < ref.logprobs.count {
            #expect(Set(e.keys) == ["id", "logprob", "top"])
            #expect(e["id"] as? Int == expected[t])
            let lp = try #require(e["logprob"] as? Double)
            #expect(abs(lp - Double(ref.logprobs[t])) <= 1e-4, "step \(t): \(lp) vs \(ref.logprobs[t])")
            let top = try #require(e["top"] as? [[Any]])
            #expect(top.count == k)
            #expect(top.map { $0[0] as? Int } == ref.topIds[t].prefix(k).map { $0 })
            for (pair, want) in zip(top, ref.topLogprobs[t]) {
                #expect(abs((pair[1] as? Double ?? .nan) - Double(want)) <= 1e-4)
            }
        }
    }

    @Test func greedyLogprobsInJSON() throws {
        let c = try recorded("greedy"), ref = try Fixtures.reference("v11-gated")
        let r = try CLI.run(["generate", "--model", modelPath, "--ids", ids(ref.prompts[c.promptIndices[0]]),
                             "--max-new-tokens", "24", "--logprobs", "5", "--json"])
        let object = try json(r)
        #expect(object["ids"] as? [Int] == c.sequences[0])
        try expectLogprobs(object["logprobs"], c.steps[0], ids: c.sequences[0], top: 5)
    }

    @Test func beamSequencesCarryScoresAndLogprobs() throws {
        let c = try recorded("beam4_lp1.0"), ref = try Fixtures.reference("v11-gated")
        let r = try CLI.run(["generate", "--model", modelPath, "--ids", ids(ref.prompts[c.promptIndices[0]]),
                             "--max-new-tokens", "24", "--num-beams", "4", "--num-return-sequences", "2",
                             "--early-stopping", "heuristic", "--logprobs", "0", "--json"])
        let object = try json(r)
        #expect(object["sequences"] as? [[Int]] == Array(c.sequences.prefix(2)))
        let scores = try #require(object["sequences_scores"] as? [Double])
        let expected = try #require(c.sequencesScores)
        #expect(zip(scores, expected).allSatisfy { abs($0 - Double($1)) <= 1e-4 })
        #expect((object["score"] as? Double).map { abs($0 - Double(expected[0])) <= 1e-4 } == true)
        let perSequence = try #require(object["sequences_logprobs"] as? [Any])
        #expect(perSequence.count == 2)
        for (i, value) in perSequence.enumerated() { try expectLogprobs(value, c.steps[i], ids: c.sequences[i], top: 0) }
        try expectLogprobs(object["logprobs"], c.steps[0], ids: c.sequences[0], top: 0)
    }

    @Test func prefixIdsAreForcedAndContinued() throws {
        let c = try recorded("greedy_prefix3"), ref = try Fixtures.reference("v11-gated")
        let prefix = try #require(c.prefix)
        let r = try CLI.run(["generate", "--model", modelPath, "--ids", ids(ref.prompts[c.promptIndices[0]]),
                             "--max-new-tokens", "24", "--prefix-ids", ids(prefix)])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == ids(c.sequences[0]) + "\n")
        let b = try recorded("beam4_prefix3")
        let beam = try CLI.run(["generate", "--model", modelPath, "--ids", ids(ref.prompts[b.promptIndices[0]]),
                                "--max-new-tokens", "24", "--prefix-ids", ids(prefix), "--num-beams", "4",
                                "--num-return-sequences", "2", "--early-stopping", "heuristic"])
        #expect(beam.stdout == b.sequences.prefix(2).map { ids($0) + "\n" }.joined(), "\(beam.stderr)")
        let sampled = try CLI.run(["generate", "--model", modelPath, "--ids", ids(ref.prompts[0]), "--max-new-tokens", "8",
                                   "--prefix-ids", ids(prefix), "--sample", "--seed", "3", "--logprobs", "1", "--json"])
        let object = try json(sampled)
        let out = try #require(object["ids"] as? [Int])
        #expect(out.starts(with: prefix) && out.count > prefix.count)
        #expect((object["logprobs"] as? [Any])?.count == out.count - prefix.count)
    }

    @Test func textPrefixStartsTheOutput() throws {
        let r = try CLI.run(["generate", "--model", textModelPath, "translate English to German: The house is wonderful.",
                             "--prefix", "Das Haus", "--max-new-tokens", "8", "--logprobs", "2", "--json"])
        let object = try json(r)
        let text = try #require(object["text"] as? String)
        #expect(text.hasPrefix("Das Haus"), "\(text)")
        let out = try #require(object["ids"] as? [Int])
        let tokenized = try CLI.run(["tokenize", "--model", textModelPath, "Das Haus"])
        let prefix = tokenized.stdout.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.filter { $0 != 1 }
        #expect(!prefix.isEmpty && out.starts(with: prefix), "\(tokenized.stdout) \(out)")
        let entries = try #require(object["logprobs"] as? [[String: Any]])
        #expect(entries.count == out.count - prefix.count)
        #expect(entries.allSatisfy { ($0["top"] as? [Any])?.count == 2 })
    }

    @Test func badInputsNameTheFlag() throws {
        let base = ["generate", "--model", modelPath, "--ids", "5,6,1"]
        let text = ["generate", "--model", textModelPath, "Hello"]
        let cases: [([String], String)] = [
            (base + ["--prefix-ids", "5,600"], "--prefix-ids: token id 600 is outside the vocabulary 0..<512"),
            (base + ["--prefix-ids", "5,x"], "--prefix-ids: 'x' is not a token id"),
            (base + ["--prefix-ids", "5,6,7", "--max-new-tokens", "2"], "--prefix-ids is 3 tokens, longer than --max-new-tokens 2"),
            (base + ["--prefix", "Hallo"], "--prefix needs the tokenizer; with --ids give --prefix-ids"),
            (text + ["--prefix", "Das Haus ist", "--max-new-tokens", "1"], "--prefix is 3 tokens, longer than --max-new-tokens 1"),
            (text + ["--prefix", "a", "--prefix-ids", "5"], "give --prefix or --prefix-ids, not both"),
            (base + ["--logprobs", "-1", "--json"], "--logprobs -1: must be >= 0"),
            (base + ["--logprobs", "513", "--json"], "--logprobs 513: must be <= the vocabulary size 512"),
            (base + ["--logprobs", "2"], "--logprobs needs --json or --batch-file"),
            (text + ["--choices", "yes,no", "--logprobs", "1", "--json"], "cannot be combined with --prefix, --prefix-ids or --logprobs"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }
}
