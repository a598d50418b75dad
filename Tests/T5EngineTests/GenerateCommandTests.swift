// `t5 generate` on a fixture model: exact output against transformers' greedy ids, and one-line errors.
import Foundation
import Testing

@Suite struct GenerateCommandTests {
    let modelPath = Fixtures.modelDirectory("v11-gated").path

    @Test func printsTransformersGreedyIds() throws {
        let ref = try Fixtures.reference("v11-gated")
        let prompt = ref.prompts[1].map(String.init).joined(separator: ",")
        let r = try CLI.run(["generate", "--model", modelPath, "--ids", prompt, "--max-new-tokens", "\(ref.maxNewTokens)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == ref.single[1].greedyIds.map(String.init).joined(separator: ",") + "\n")
    }

    @Test func jsonHasIdsField() throws {
        let ref = try Fixtures.reference("v11-gated")
        let prompt = ref.prompts[0].map(String.init).joined(separator: ",")
        let r = try CLI.run(["generate", "--model", modelPath, "--ids", prompt, "--max-new-tokens", "\(ref.maxNewTokens)", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["ids"] as? [Int] == ref.single[0].greedyIds)
        #expect(object["prompt_ids"] as? [Int] == ref.prompts[0])
        #expect(r.stdout.split(separator: "\n").count == 1)
    }

    @Test func badInputsExitNonZeroWithOneLine() throws {
        let cases: [([String], String)] = [
            (["generate", "--model", "/nonexistent/model", "--ids", "1"], "no such model folder"),
            (["generate", "--model", modelPath, "--ids", "1,x,3"], "'x' is not a token id"),
            (["generate", "--model", modelPath, "--ids", "1", "--max-new-tokens=-3"], "--max-new-tokens -3: must be >= 0"),
            (["generate", "--model", modelPath, "--ids", "1", "--max-new-tokens", "-3"], "--max-new-tokens -3: must be >= 0"),
            (["generate", "--model", modelPath, "--ids", "5,512,1"], "token id 512 is outside the vocabulary 0..<512 of this model"),
            (["generate", "--model", modelPath, "--ids", "5,99999,1"], "token id 99999 is outside the vocabulary"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stdout.isEmpty, "\(args)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }

    @Test func absurdDecodingOptionsNameTheFlag() throws {
        let base = ["generate", "--model", modelPath, "--ids", "5,6,1"]
        let cases: [([String], String)] = [
            (["--top-p", "0"], "--top-p 0.0: must be in (0, 1]"),
            (["--top-p", "1.5"], "--top-p 1.5: must be in (0, 1]"),
            (["--num-beams", "0"], "--num-beams 0: must be between 1 and 256"),
            (["--temperature=-1"], "--temperature -1.0: must be > 0"),
            (["--max-new-tokens", "1000000000"], "--max-new-tokens 1000000000: must be <="),
            (["--num-beams", "2", "--num-return-sequences", "3"], "--num-return-sequences 3: must be <= numBeams"),
            (["--early-stopping", "sometimes"], "--early-stopping must be heuristic, always or never"),
            (["--threads", "0"], "--threads must be between 1 and 1024"),
        ]
        for (extra, message) in cases {
            let r = try CLI.run(base + extra)
            #expect(r.status != 0, "\(extra)")
            #expect(r.stderr.contains(message), "\(extra): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(extra): \(r.stderr)")
        }
    }

    @Test func beamSearchFromTheCommandLineMatchesTransformers() throws {
        let ref = try Fixtures.reference("v11-gated")
        let url = Fixtures.root.appendingPathComponent("reference/v11-gated.generate.json")
        let cases = try JSONDecoder().decode([GenerateCase].self, from: Data(contentsOf: url))
        let c = try #require(cases.first { $0.name == "beam4_return2_esfalse" })
        let prompt = ref.prompts[c.promptIndices[0]].map(String.init).joined(separator: ",")
        let r = try CLI.run(["generate", "--model", modelPath, "--ids", prompt, "--max-new-tokens", "24",
                             "--num-beams", "4", "--num-return-sequences", "2", "--early-stopping", "heuristic"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == c.sequences.map { $0.map(String.init).joined(separator: ",") + "\n" }.joined())
    }
}
