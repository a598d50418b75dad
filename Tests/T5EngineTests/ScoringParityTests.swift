// Scoring targets against transformers: log p(target | prompt) = -loss × len(labels), per-token log-probs, for
// token-id targets (three models) and text targets (text-tiny, with the real tokenizer); the CLI's score, --choices
// and eval --rank. References: reference/<model>.scores.json (Scripts/make_fixtures.py --scores-only).
import Foundation
import Testing
@testable import T5Engine

struct ScoreReference: Decodable {
    struct Target: Decodable {
        let ids: [Int]
        let logprob: Double
        let tokenLogprobs: [Float]
        let text: String?
        enum CodingKeys: String, CodingKey { case ids, logprob, text, tokenLogprobs = "token_logprobs" }
    }
    let promptIndex: Int?
    let prompt: String?
    let inputIds: [Int]?
    let targets: [Target]
    let best: Int?
    enum CodingKeys: String, CodingKey {
        case targets, prompt, best, promptIndex = "prompt_index", inputIds = "input_ids"
    }

    static func load(_ name: String) throws -> [ScoreReference] {
        let url = Fixtures.root.appendingPathComponent("reference/\(name).scores.json")
        return try JSONDecoder().decode([ScoreReference].self, from: Data(contentsOf: url))
    }
}

/// Per-token log-probs within 1e-4; sums within 1e-4 × max(1, |sum|) (float32 logits of magnitude ~30 summed over up
/// to 25 tokens).
func expectScoreMatches(_ ours: TargetScore, _ ref: ScoreReference.Target, _ label: String) -> Bool {
    let (err, _) = maxAbsError(ours.tokenLogprobs, ref.tokenLogprobs)
    let sumOK = abs(ours.logprob - ref.logprob) <= 1e-4 * max(1, abs(ref.logprob))
    #expect(ours.ids == ref.ids, "\(label)")
    #expect(err <= 1e-4, "\(label): token log-prob max err \(err)")
    #expect(sumOK, "\(label): logprob \(ours.logprob) vs \(ref.logprob)")
    return ours.ids == ref.ids && err <= 1e-4 && sumOK
}

@Suite struct ScoringParityTests {
    @Test(arguments: ["v11-gated", "t5-relu-tied", "odd-depth"])
    func targetIdsMatchTransformersLoss(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        var equal = 0, total = 0
        for c in try ScoreReference.load(name) {
            let prompt = ref.prompts[try #require(c.promptIndex)]
            let batched = try model.score(prompt: prompt, targets: c.targets.map(\.ids))
            for (i, (ours, expected)) in zip(batched, c.targets).enumerated() {
                total += 1
                if expectScoreMatches(ours, expected, "\(name) prompt \(c.promptIndex!) target \(i)") { equal += 1 }
            }
            // A target scored alone gives the same numbers as in the batch (to rounding: batched kernels sum in
            // another order).
            let alone = try model.score(prompt: prompt, targets: [c.targets[2].ids])[0]
            #expect(maxAbsError(alone.tokenLogprobs, batched[2].tokenLogprobs).error <= 2e-5)
        }
        #expect(total == 28)
        print("ScoringParity \(name): \(equal)/\(total) targets equal")
    }

    @Test func textTargetsAndRankingMatch() async throws {
        let generator = try T5Generator(directory: Fixtures.modelDirectory("text-tiny"))
        for c in try ScoreReference.load("text-tiny") {
            let texts = c.targets.map { $0.text! }
            let scores = try await generator.score(prompt: c.prompt!, targets: texts)
            for (ours, expected) in zip(scores, c.targets) { _ = expectScoreMatches(ours, expected, "text-tiny \(expected.text!)") }
            let ranked = try await generator.rank(prompt: c.prompt!, choices: texts)
            #expect(ranked.best == c.best)
            #expect(abs(scores[0].meanLogprob - scores[0].logprob / Double(scores[0].ids.count)) < 1e-12)
        }
    }

    @Test func badTargetsAreRefused() async throws {
        let model = try Fixtures.model("v11-gated")
        #expect(throws: GenerationError.self) { _ = try model.score(prompt: [5, 1], targets: []) }
        #expect(throws: GenerationError.self) { _ = try model.score(prompt: [5, 1], targets: [[3], []]) }
        #expect(throws: GenerationError.self) { _ = try model.score(prompt: [5, 1], targets: [[3, 512]]) }
        #expect(throws: RequestError.self) { _ = try model.score(prompt: [], targets: [[3]]) }
        let generator = try T5Generator(directory: Fixtures.modelDirectory("text-tiny"))
        await #expect(throws: GenerationError.self) { _ = try await generator.rank(prompt: "q", choices: []) }
        await #expect(throws: GenerationError.self) { _ = try await generator.rank(prompt: "q", choices: ["a", "  "]) }
    }
}

@Suite struct ScoringCommandTests {
    let tiny = Fixtures.modelDirectory("text-tiny").path

    @Test func scoreJSONHasTheIssueShape() throws {
        let c = try #require(try ScoreReference.load("text-tiny").first)
        let r = try CLI.run(["score", "--model", tiny, "--prompt", c.prompt!, "--target", "yes", "--target-ids", "4273,1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let targets = try #require(object["targets"] as? [[String: Any]])
        #expect(targets.count == 2)
        for t in targets {
            #expect(Set(t.keys) == ["ids", "logprob", "token_logprobs", "mean_logprob"])
            #expect(t["ids"] as? [Int] == c.targets[0].ids)
            let lp = try #require(t["logprob"] as? Double)
            #expect(abs(lp - c.targets[0].logprob) <= 1e-4 * abs(c.targets[0].logprob))
        }
    }

    @Test func choicesPickTheMostLikelyOption() throws {
        let c = try #require(try ScoreReference.load("text-tiny").last)
        let options = c.targets.map { $0.text! }
        let r = try CLI.run(["generate", "--model", tiny, c.prompt!, "--choices", options.joined(separator: ",")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == options[c.best!])
        #expect(lines.count == 1 + options.count)
        #expect(lines[1 + c.best!].hasPrefix("* "))
    }

    @Test func evalRankScoresOptions() throws {
        let items = try ScoreReference.load("text-tiny").map { c -> String in
            let o: [String: Any] = ["prompt": c.prompt!, "answer": c.targets[0].text!, "options": c.targets.map { $0.text! }]
            return String(decoding: try JSONSerialization.data(withJSONObject: o), as: UTF8.self)
        }
        let r = try CLI.run(["eval", "--model", tiny, "--data", "-", "--rank", "--json"], stdin: items.joined(separator: "\n"))
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let expected = try ScoreReference.load("text-tiny").filter { $0.best == 0 }.count
        #expect(object["correct"] as? Int == expected)
        let missing = try CLI.run(["eval", "--model", tiny, "--data", "-", "--rank"], stdin: #"{"prompt": "q", "answer": "a"}"#)
        #expect(missing.status != 0 && missing.stderr.contains("--rank needs \"options\""))
    }

    @Test func badInputIsOneLineNamingTheFlag() throws {
        let cases: [([String], String)] = [
            (["generate", "--model", tiny, "q", "--choices", " , "], "--choices"),
            (["score", "--model", tiny, "--prompt", "q"], "--target"),
            (["score", "--model", tiny, "--prompt", "q", "--target-ids", "1,x"], "--target-ids"),
            (["score", "--model", tiny, "--prompt", "q", "--target-ids", "99999"], "--target-ids"),
            (["generate", "--model", tiny, "q", "--suppress-tokens", "99999"], "--suppress-tokens"),
            (["generate", "--model", tiny, "q", "--logit-bias", "5:nan"], "--logit-bias"),
            (["generate", "--model", tiny, "q", "--begin-suppress", "-3"], "--begin-suppress"),
        ]
        for (args, flag) in cases {
            let r = try CLI.run(args)
            #expect(r.status != 0, "\(args)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.contains(flag), "\(args): \(r.stderr)")
        }
    }
}
