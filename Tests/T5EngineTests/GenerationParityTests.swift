// Decoding strategies against transformers' generate(): beam search (2 and 4 beams, length penalties,
// early stopping, several returned sequences), repetition penalty, no-repeat n-grams, min/max new tokens.
import Foundation
import Testing
@testable import T5Engine

/// One recorded `generate()` call (Scripts/make_fixtures.py, `<model>.generate.json`).
struct GenerateCase: Decodable {
    let name: String
    let promptIndices: [Int]
    let kwargs: [String: KwargValue]
    let sequences: [[Int]]
    let sequencesScores: [Float]?
    enum CodingKeys: String, CodingKey {
        case name, kwargs, sequences
        case promptIndices = "prompt_indices", sequencesScores = "sequences_scores"
    }
}

enum KwargValue: Decodable {
    case bool(Bool), int(Int), double(Double), string(String), list([KwargValue])
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let l = try? c.decode([KwargValue].self) { self = .list(l) }
        else { self = .string(try c.decode(String.self)) }
    }
    var int: Int? { if case .int(let i) = self { return i }; return nil }
    var list: [KwargValue]? { if case .list(let l) = self { return l }; return nil }
    var ints: [Int]? { list?.compactMap(\.int) }
    var double: Double? {
        switch self { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
    }
}

/// transformers' generate kwargs as our options; an unknown kwarg fails the test rather than being ignored.
func options(from kwargs: [String: KwargValue]) throws -> GenerationOptions {
    var o = GenerationOptions()
    for (key, value) in kwargs {
        switch key {
        case "max_new_tokens": o.maxNewTokens = try #require(value.int)
        case "min_new_tokens": o.minNewTokens = try #require(value.int)
        case "num_beams": o.numBeams = try #require(value.int)
        case "num_return_sequences": o.numReturnSequences = try #require(value.int)
        case "length_penalty": o.lengthPenalty = try #require(value.double)
        case "repetition_penalty": o.repetitionPenalty = Float(try #require(value.double))
        case "no_repeat_ngram_size": o.noRepeatNgramSize = try #require(value.int)
        case "suppress_tokens": o.suppressTokens = try #require(value.ints)
        case "begin_suppress_tokens": o.beginSuppressTokens = try #require(value.ints)
        case "bad_words_ids": o.badWordsIds = try #require(value.list).map { try #require($0.ints) }
        case "sequence_bias":
            o.sequenceBias = try #require(value.list).map { pair in
                let items = try #require(pair.list)
                return SequenceBias(tokens: try #require(items.first?.ints), bias: Float(try #require(items.last?.double)))
            }
        case "forced_eos_token_id":
            #expect(value.int == 1, "forced EOS is the model's EOS")
            o.forcedEOS = true
        case "temperature": o.temperature = Float(try #require(value.double))
        case "top_k": o.topK = try #require(value.int)
        case "top_p": o.topP = Float(try #require(value.double))
        case "do_sample":
            guard case .bool(let sample) = value else { Issue.record("do_sample \(value)"); break }
            o.doSample = sample
        case "early_stopping":
            switch value {
            case .bool(true): o.earlyStopping = .always
            case .bool(false): o.earlyStopping = .heuristic
            case .string("never"): o.earlyStopping = .never
            default: Issue.record("early_stopping \(value)")
            }
        default: Issue.record("unhandled generate kwarg \(key)")
        }
    }
    return o
}

@Suite struct GenerationParityTests {
    @Test(arguments: ["v11-gated", "t5-relu-tied", "odd-depth"])
    func everyRecordedCallMatches(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        let url = Fixtures.root.appendingPathComponent("reference/\(name).generate.json")
        let cases = try JSONDecoder().decode([GenerateCase].self, from: Data(contentsOf: url))
        #expect(cases.count >= 10)
        for c in cases {
            let o = try options(from: c.kwargs)
            let prompts = c.promptIndices.map { ref.prompts[$0] }
            let ours = try model.generate(prompts: prompts, options: o).flatMap { $0 }
            #expect(ours.map(\.tokens) == c.sequences, "\(name) \(c.name)")
            if let scores = c.sequencesScores {
                for (s, expected) in zip(ours, scores) {
                    let score = try #require(s.score)
                    #expect(abs(score - expected) <= 1e-4 * max(1, abs(expected)), "\(name) \(c.name): score \(score) vs \(expected)")
                }
            }
        }
    }

    /// Length penalty only matters when finished beams compete: the recorded beam outputs must include some.
    @Test func beamFixturesIncludeSequencesEndingInEOS() throws {
        var count = 0
        for name in ["v11-gated", "t5-relu-tied", "odd-depth"] {
            let url = Fixtures.root.appendingPathComponent("reference/\(name).generate.json")
            let cases = try JSONDecoder().decode([GenerateCase].self, from: Data(contentsOf: url))
            for c in cases where c.sequencesScores != nil { count += c.sequences.filter { $0.last == 1 }.count }
        }
        #expect(count >= 5)
    }
}
