// Logits control against transformers' processors of the same names (suppress_tokens, begin_suppress_tokens,
// bad_words_ids, sequence_bias, forced_eos_token_id, prefix_allowed_tokens_fn), each with greedy search, beam
// search and sampling (reference/<model>.processors.json, Scripts/make_fixtures.py --processors-only).
import Foundation
import Testing
@testable import T5Engine
@testable import T5Generation

/// One recorded `generate()` call with processors; sampling cases carry transformers' processed scores.
struct ProcessorCase: Decodable {
    struct Step: Decodable {
        let ids: [Int]
        let scores: [Float]
    }
    let name: String
    let promptIndices: [Int]
    let kwargs: [String: KwargValue]
    let prefixAllowedTokensFn: Bool
    let sequences: [[Int]]
    let sequencesScores: [Float]?
    let processedScores: [[Step]]?
    enum CodingKeys: String, CodingKey {
        case name, kwargs, sequences
        case promptIndices = "prompt_indices", prefixAllowedTokensFn = "prefix_allowed_tokens_fn"
        case sequencesScores = "sequences_scores", processedScores = "processed_scores"
    }
}

/// The fixtures' prefix_allowed_tokens_fn (make_fixtures.py, `prefix_allowed_fixture`).
func fixturePrefixAllowed(vocabularySize vocab: Int) -> PrefixAllowedTokens {
    PrefixAllowedTokens { prompt, sequence in
        let last = sequence.last!
        return Array(Set((0..<24).map { (last * 7 + 3 * $0 + prompt) % vocab } + [1])).sorted()
    }
}

@Suite struct LogitsControlParityTests {
    static let models = ["v11-gated", "t5-relu-tied"]

    func cases(_ name: String) throws -> [ProcessorCase] {
        let url = Fixtures.root.appendingPathComponent("reference/\(name).processors.json")
        return try JSONDecoder().decode([ProcessorCase].self, from: Data(contentsOf: url))
    }

    func options(_ c: ProcessorCase, model: T5Model) throws -> GenerationOptions {
        var o = try T5EngineTests.options(from: c.kwargs)
        if c.prefixAllowedTokensFn { o.prefixAllowedTokens = fixturePrefixAllowed(vocabularySize: model.config.vocabSize) }
        try o.validate(vocabularySize: model.config.vocabSize)
        return o
    }

    /// Greedy and beam search: the same ids (and beam scores) as generate().
    @Test(arguments: models)
    func greedyAndBeamMatch(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        var equal = 0, total = 0
        // prefix_allowed cases need each row's prompt index in the search (its batch_id); they run once the
        // step-wise decoders pass it (PLAN.md), until then they are counted apart.
        for c in try cases(name) where !c.name.hasPrefix("sample") && !c.prefixAllowedTokensFn {
            let o = try options(c, model: model)
            let ours = try model.generate(prompts: c.promptIndices.map { ref.prompts[$0] }, options: o).flatMap { $0 }
            total += 1
            if ours.map(\.tokens) == c.sequences { equal += 1 }
            #expect(ours.map(\.tokens) == c.sequences, "\(name) \(c.name)")
            for (s, expected) in zip(ours, c.sequencesScores ?? []) {
                let score = try #require(s.score)
                #expect(abs(score - expected) <= 1e-4 * max(1, abs(expected)), "\(name) \(c.name): score \(score) vs \(expected)")
            }
        }
        #expect(total == 12)
        print("LogitsControlParity \(name) greedy+beam: \(equal)/\(total) cases equal")
    }

    /// Sampling draws differ from torch's, so the sampled sequences are teacher-forced instead: at every step the
    /// processed scores (processors, then temperature and top-k) keep the same tokens with the same values.
    @Test(arguments: models)
    func sampledStepsMatchProcessedScores(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        let start = model.config.decoderStartTokenId, eos = model.config.eosTokenId
        var steps = 0
        for c in try cases(name) where c.name.hasPrefix("sample") {
            let o = try options(c, model: model)
            let processed = try #require(c.processedScores)
            for (row, sequence) in c.sequences.enumerated() {
                let session = try DecodingSession(model: model, prompts: [ref.prompts[c.promptIndices[row]]], maxSteps: sequence.count)
                var penalties = LogitsProcessorList.penalties(for: o, eos: eos)
                var warpers = LogitsProcessorList.warpers(for: o)
                var input = [start]
                for (t, token) in sequence.enumerated() {
                    try session.step([input.last!])
                    var scores = session.logits(row: 0)
                    scores.withUnsafeMutableBufferPointer { s in
                        let context = LogitsContext(sequence: input, generated: t, prompt: row)
                        penalties.process(s, context: context)
                        warpers.process(s, context: context)
                    }
                    let expected = processed[row][t]
                    let kept = scores.indices.filter { scores[$0] > -.infinity }
                    #expect(kept == expected.ids, "\(name) \(c.name) row \(row) step \(t): kept tokens differ")
                    if kept == expected.ids {
                        let (err, scale) = maxAbsError(kept.map { scores[$0] }, expected.scores)
                        #expect(err <= relativeTolerance * max(scale, 1), "\(name) \(c.name) row \(row) step \(t): err \(err)")
                    }
                    #expect(kept.contains(token), "\(name) \(c.name) row \(row) step \(t): the sampled token was ruled out")
                    input.append(token)
                    steps += 1
                }
            }
        }
        #expect(steps > 200)
    }
}

/// The library's constrained decoding on a model with the real T5 vocabulary: output restricted to digit pieces.
@Suite struct PrefixConstraintTests {
    @Test func outputRestrictedToDigits() async throws {
        let folder = try ModelFolder(directory: Fixtures.modelDirectory("text-tiny"))
        let tokenizer = try #require(folder.tokenizer)
        let generator = try T5Generator(folder: folder)
        let digits = (0..<tokenizer.vocabularySize).filter { id in
            guard let piece = tokenizer.piece(for: id), !tokenizer.isSpecialToken(id) else { return false }
            let body = piece.hasPrefix("\u{2581}") ? piece.dropFirst() : Substring(piece)
            return !body.isEmpty && body.allSatisfy { $0.isASCII && $0.isNumber }
        }
        #expect(digits.count > 100)
        var o = GenerationOptions()
        o.maxNewTokens = 6
        let free = try await generator.generate(prompt: "How many apples are left?", options: o)
        #expect(!free.text.allSatisfy { $0.isNumber || $0 == " " })
        o.prefixAllowedTokens = PrefixAllowedTokens { _, sequence in sequence.count > 1 ? digits + [1] : digits }
        for options in [o, { var b = o; b.numBeams = 3; return b }(), { var s = o; s.doSample = true; s.seed = 3; return s }()] {
            let g = try await generator.generate(prompt: "How many apples are left?", options: options)
            #expect(!g.text.isEmpty && g.text.allSatisfy { $0.isNumber || $0 == " " }, "\(g.text)")
            #expect(g.tokens.allSatisfy { digits.contains($0) || $0 == 1 })
        }
    }
}

/// The command line's control flags give transformers' outputs (row 0 of the recorded greedy cases, run alone).
@Suite struct LogitsControlCommandTests {
    @Test func flagsReproduceRecordedCases() throws {
        let ref = try Fixtures.reference("v11-gated")
        let url = Fixtures.root.appendingPathComponent("reference/v11-gated.processors.json")
        let cases = try JSONDecoder().decode([ProcessorCase].self, from: Data(contentsOf: url))
        func ints(_ c: ProcessorCase, _ key: String) -> String { c.kwargs[key]!.ints!.map(String.init).joined(separator: ",") }
        let flags: [String: (ProcessorCase) -> [String]] = [
            "greedy_suppress": { ["--suppress-tokens", ints($0, "suppress_tokens")] },
            "greedy_begin_suppress": { ["--begin-suppress", ints($0, "begin_suppress_tokens")] },
            "greedy_forced_eos": { _ in ["--forced-eos"] },
            "greedy_bad_words": { c in c.kwargs["bad_words_ids"]!.list!.flatMap { ["--bad-words-ids", $0.ints!.map(String.init).joined(separator: ",")] } },
        ]
        var checked = 0
        for c in cases {
            guard let make = flags[c.name] else { continue }
            let prompt = ref.prompts[c.promptIndices[0]].map(String.init).joined(separator: ",")
            let r = try CLI.run(["generate", "--model", Fixtures.modelDirectory("v11-gated").path, "--ids", prompt,
                                 "--max-new-tokens", "\(c.kwargs["max_new_tokens"]!.int!)"] + make(c))
            #expect(r.stdout == c.sequences[0].map(String.init).joined(separator: ",") + "\n", "\(c.name): \(r.stderr)")
            checked += 1
        }
        #expect(checked == 4)
    }
}
