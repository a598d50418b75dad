// Token log-probabilities and forced decoder prefixes against transformers (reference/<model>.logprobs.json,
// Scripts/make_fixtures.py --logprobs-only): greedy and beam ids equal, every step's log-probability and top-5
// within 1e-4; sampled sequences are replayed (torch's draws differ from ours) and their log-probabilities compared.
import Foundation
import Testing
@testable import T5Engine
@testable import T5Generation

/// One recorded `generate()` call with transition scores and the top log-probabilities of every step.
struct LogprobCase: Decodable {
    /// One returned sequence's steps after the prefix.
    struct Steps: Decodable {
        let logprobs: [Float]
        let topIds: [[Int]]
        let topLogprobs: [[Float]]
        enum CodingKeys: String, CodingKey { case logprobs, topIds = "top_ids", topLogprobs = "top_logprobs" }
    }
    let name: String
    let promptIndices: [Int]
    let kwargs: [String: KwargValue]
    /// Forced decoder prefix (transformers: decoder_input_ids = [start] + prefix); `sequences` include it.
    let prefix: [Int]?
    let sequences: [[Int]]
    let steps: [Steps]
    let sequencesScores: [Float]?
    enum CodingKeys: String, CodingKey {
        case name, kwargs, prefix, sequences, steps
        case promptIndices = "prompt_indices", sequencesScores = "sequences_scores"
    }

    static func load(_ model: String) throws -> [LogprobCase] {
        let url = Fixtures.root.appendingPathComponent("reference/\(model).logprobs.json")
        return try JSONDecoder().decode([LogprobCase].self, from: Data(contentsOf: url))
    }

    /// Our options for the case: transformers' new-token counts exclude the prefix, ours include it.
    func options(logprobs: Int = 5) throws -> GenerationOptions {
        var o = try T5EngineTests.options(from: kwargs)
        if let prefix {
            o.prefix = prefix
            o.maxNewTokens += prefix.count
            if o.minNewTokens > 0 { o.minNewTokens += prefix.count }
        }
        o.logprobs = logprobs
        return o
    }
}

/// Replays recorded draws, so a sampled run follows transformers' sequence; refuses a token the warpers ruled out.
struct ReplaySampler: TokenSampler {
    let tokens: [Int]
    var next = 0
    mutating func choose(from scores: UnsafeMutableBufferPointer<Float>) -> Int? {
        defer { next += 1 }
        guard next < tokens.count, scores[tokens[next]] > -.infinity else { return nil }
        return tokens[next]
    }
}

/// Comparison tallies: how many sequences and steps matched, and the largest log-probability difference.
struct LogprobTally {
    var equalSequences = 0, sequences = 0, steps = 0, maxDiff: Float = 0

    /// One sequence: ids, then per step the chosen token's log-probability and the top-5 (ids equal, values 1e-4).
    mutating func compare(_ ours: GeneratedSequence, expected ids: [Int], steps ref: LogprobCase.Steps, prefix: Int, label: String) {
        sequences += 1
        guard ours.tokens == ids else {
            Issue.record("\(label): ids \(ours.tokens) vs \(ids)")
            return
        }
        guard let entries = ours.logprobs, entries.count == ref.logprobs.count else {
            Issue.record("\(label): \(ours.logprobs?.count ?? -1) log-probabilities for \(ref.logprobs.count) steps")
            return
        }
        var ok = true
        for (t, e) in entries.enumerated() {
            steps += 1
            ok = ok && e.id == ids[prefix + t] && e.top.map(\.id) == ref.topIds[t]
            let diffs = [abs(e.logprob - ref.logprobs[t])] + zip(e.top.map(\.logprob), ref.topLogprobs[t]).map { abs($0 - $1) }
            maxDiff = max(maxDiff, diffs.max()!)
            ok = ok && diffs.allSatisfy { $0 <= 1e-4 }
        }
        #expect(ok, "\(label): log-probabilities differ (max diff so far \(maxDiff))")
        if ok { equalSequences += 1 }
    }
}

@Suite struct LogprobsParityTests {
    static let models = ["v11-gated", "t5-relu-tied"]

    /// Greedy and beam search with `logprobs` 5, with and without a prefix: ids, beam scores and log-probabilities.
    @Test(arguments: models)
    func greedyAndBeamMatchTransformers(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        var greedy = LogprobTally(), beam = LogprobTally(), prefixed = LogprobTally()
        for c in try LogprobCase.load(name) where !c.name.hasPrefix("sample") {
            let o = try c.options()
            let ours = try model.generate(prompts: c.promptIndices.map { ref.prompts[$0] }, options: o).flatMap { $0 }
            #expect(ours.count == c.sequences.count, "\(name) \(c.name)")
            for (i, s) in ours.enumerated() where i < c.sequences.count {
                let label = "\(name) \(c.name) sequence \(i)"
                if c.prefix != nil {
                    prefixed.compare(s, expected: c.sequences[i], steps: c.steps[i], prefix: o.prefix.count, label: label)
                } else if o.numBeams > 1 {
                    beam.compare(s, expected: c.sequences[i], steps: c.steps[i], prefix: 0, label: label)
                } else {
                    greedy.compare(s, expected: c.sequences[i], steps: c.steps[i], prefix: 0, label: label)
                }
                if let expected = c.sequencesScores?[i] {
                    let score = try #require(s.score)
                    #expect(abs(score - expected) <= 1e-4 * max(1, abs(expected)), "\(label): score \(score) vs \(expected)")
                }
            }
        }
        for (kind, t) in [("greedy", greedy), ("beam", beam), ("prefix", prefixed)] {
            print("LogprobsParity \(name) \(kind): \(t.equalSequences)/\(t.sequences) sequences equal, \(t.steps) steps, max logprob diff \(t.maxDiff)")
        }
        #expect(greedy.sequences == 5 && beam.sequences == 10 && prefixed.sequences == 12)
    }

    /// Sampling (top-k with temperature, top-p, with a prefix): transformers' draws replayed through the decoder.
    @Test(arguments: models)
    func sampledStepsMatchTransformers(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        var tally = LogprobTally()
        for c in try LogprobCase.load(name) where c.name.hasPrefix("sample") {
            let o = try c.options()
            let prompts = c.promptIndices.map { ref.prompts[$0] }
            let samplers: [any TokenSampler] = c.sequences.map { ReplaySampler(tokens: Array($0.dropFirst(o.prefix.count))) }
            let decoder = TokenSearchDecoder(options: o, promptCount: prompts.count, eos: model.config.eosTokenId,
                                             hooks: GenerationHooks(), samplers: samplers)
            let ours = try run(decoder, prompts: prompts, model: model, maxSteps: o.maxNewTokens).flatMap { $0 }
            #expect(ours.count == c.sequences.count, "\(name) \(c.name)")
            for (i, s) in ours.enumerated() where i < c.sequences.count {
                tally.compare(s, expected: c.sequences[i], steps: c.steps[i], prefix: o.prefix.count, label: "\(name) \(c.name) sequence \(i)")
            }
        }
        print("LogprobsParity \(name) sample: \(tally.equalSequences)/\(tally.sequences) sequences equal, \(tally.steps) steps, max logprob diff \(tally.maxDiff)")
        #expect(tally.sequences == 6 && tally.steps > 100)
    }

    /// A request decoder alone in a session of its own, as `generate` runs it.
    func run(_ decoder: any RequestDecoder, prompts: [[Int]], model: T5Model, maxSteps: Int) throws -> [[GeneratedSequence]] {
        let encoded = try model.encodeForDecoding(prompts: prompts)
        let session = try DecodingSession(model: model, capacity: decoder.rowsNeeded, maxSteps: maxSteps,
                                          maxPromptLength: encoded.lengths.max() ?? 0)
        let loop = SharedDecodingLoop(session: session)
        _ = try loop.add(decoder, encoded: encoded)
        while true {
            for event in try loop.step() {
                if case .finished(_, let sequences) = event { return sequences }
                if case .failed(_, let error) = event { throw error }
            }
        }
    }
}
