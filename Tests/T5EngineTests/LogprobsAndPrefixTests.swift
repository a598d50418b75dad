// The library side of `logprobs` and `prefix` beyond the transformers fixtures: typed errors, a prefix that fills
// maxNewTokens, EOS inside a prefix, streaming, K = 0 and K = vocabulary size, and the text-level results.
import Foundation
import Testing
@testable import T5Engine

@Suite struct LogprobsAndPrefixTests {
    let prompt = [17, 33, 250, 9, 1]

    func options(_ edit: (inout GenerationOptions) -> Void) -> GenerationOptions {
        var o = GenerationOptions()
        o.maxNewTokens = 6
        edit(&o)
        return o
    }

    @Test func badOptionsAreTypedErrors() throws {
        let model = try Fixtures.model("v11-gated")
        let cases: [(GenerationOptions, String)] = [
            (options { $0.prefix = [5, 6, 7]; $0.maxNewTokens = 2 }, "prefix"),
            (options { $0.prefix = [5, -1] }, "prefix"),
            (options { $0.prefix = [5, 512] }, "prefix"),
            (options { $0.logprobs = -1 }, "logprobs"),
            (options { $0.logprobs = 513 }, "logprobs"),
        ]
        for (o, name) in cases {
            #expect {
                _ = try model.generate(prompts: [prompt], options: o)
            } throws: { error in
                guard case .invalidOption(let n, _, _) = error as? GenerationError else { return false }
                return n == name
            }
            // Callers of makeDecoder (the server's loop) get the same error when the decoder starts.
            let session = try DecodingSession(model: model, capacity: 8, maxSteps: 8, reorderable: true)
            let loop = SharedDecodingLoop(session: session)
            let decoder = o.makeDecoder(promptCount: 1, eos: model.config.eosTokenId)
            #expect(throws: GenerationError.self) { _ = try loop.add(decoder, encoded: model.encodeForDecoding(prompts: [prompt])) }
        }
        #expect(throws: Never.self) { try options { $0.logprobs = 512; $0.prefix = [5, 6] }.validate(vocabularySize: 512) }
    }

    @Test func aPrefixFillingMaxNewTokensIsTheOutput() throws {
        let model = try Fixtures.model("v11-gated")
        for beams in [1, 3] {
            let o = options { $0.prefix = [5, 6, 7]; $0.maxNewTokens = 3; $0.numBeams = beams; $0.logprobs = 2 }
            let out = try model.generate(prompts: [prompt, [40, 41, 1]], options: o)
            for s in out.flatMap({ $0 }) {
                #expect(s.tokens == [5, 6, 7] && s.finishReason == .length && s.logprobs == [])
            }
        }
    }

    @Test func theOutputContinuesThePrefixAndStreamsIt() throws {
        let model = try Fixtures.model("v11-gated")
        var streamed: [Int] = []
        let hooks = GenerationHooks(onToken: { row, token in if row == 0 { streamed.append(token) } })
        // An EOS inside the prefix is given, not generated: the row goes on.
        let o = options { $0.prefix = [5, 1, 7]; $0.logprobs = 1 }
        let s = try model.generate(prompts: [prompt], options: o, hooks: hooks)[0][0]
        #expect(s.tokens.starts(with: [5, 1, 7]) && s.tokens.count > 3)
        #expect(streamed == s.tokens)
        let entries = try #require(s.logprobs)
        #expect(entries.map(\.id) == Array(s.tokens.dropFirst(3)))
        // Greedy: the chosen token is the most likely one.
        #expect(entries.allSatisfy { $0.top.first?.id == $0.id && $0.top.first?.logprob == $0.logprob })
    }

    @Test func topCountsFromNoneToTheWholeVocabulary() throws {
        let model = try Fixtures.model("v11-gated")
        #expect(try model.generate(prompts: [prompt], options: options { _ in })[0][0].logprobs == nil)
        let none = try #require(try model.generate(prompts: [prompt], options: options { $0.logprobs = 0 })[0][0].logprobs)
        #expect(none.count == 6 && none.allSatisfy(\.top.isEmpty))
        let all = try #require(try model.generate(prompts: [prompt], options: options { $0.logprobs = 512 })[0][0].logprobs)
        for e in all {
            #expect(e.top.count == 512 && Set(e.top.map(\.id)).count == 512)
            #expect(zip(e.top, e.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob })
            let total = e.top.reduce(0.0) { $0 + exp(Double($1.logprob)) }
            #expect(abs(total - 1) < 1e-4, "probabilities sum to \(total)")
            #expect(e.top.first { $0.id == e.id }?.logprob == e.logprob)
        }
    }

    @Test func textResultsCarryLogprobs() async throws {
        let generator = try T5Generator(directory: Fixtures.modelDirectory("text-tiny"))
        var o = generator.defaultOptions
        o.maxNewTokens = 5
        o.logprobs = 3
        o.prefix = try generator.prefixTokens("Das")
        let g = try await generator.generate(prompt: "translate English to German: The house is wonderful.", options: o)
        #expect(g.text.hasPrefix("Das"))
        let entries = try #require(g.sequences[0].sequence.logprobs)
        #expect(entries.count == g.tokens.count - o.prefix.count && entries.allSatisfy { $0.top.count == 3 })
    }
}

@Suite struct PrefixStopStringTests {
    /// A stop string inside the forced prefix does not end the output at once: stops are looked for after it.
    @Test func stopStringsLookPastThePrefix() async throws {
        let generator = try T5Generator(directory: Fixtures.modelDirectory("text-tiny"))
        var o = generator.defaultOptions
        o.maxNewTokens = 6
        o.prefix = try generator.prefixTokens("Das Haus")
        o.stopStrings = ["Haus"]
        let g = try await generator.generate(prompt: "translate English to German: The house is wonderful.", options: o)
        #expect(g.finishReason != .stop && g.tokens.count == o.maxNewTokens, "\(g.tokens) \(g.finishReason)")
    }
}
