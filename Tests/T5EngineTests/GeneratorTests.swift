// The text-level API on a fixture model: concurrency, streaming, cancellation, stop strings, self-consistency.
import Foundation
import Testing
@testable import T5Engine

/// A reversible toy tokenizer for fixture models whose vocabulary is too small for the T5 one:
/// byte b ↦ id b + 3 (ids 0, 1, 2 are pad, EOS, unk). Any id above 258 decodes as "?".
struct ByteTokenizer: TextTokenizer {
    func encodeWithEOS(_ text: String) throws -> [Int] { text.utf8.map { Int($0) + 3 } + [1] }
    func decodeSkippingSpecial(_ ids: [Int]) -> String {
        let bytes = ids.compactMap { id -> UInt8? in
            if id < 3 { return nil }
            return id - 3 < 256 ? UInt8(id - 3) : UInt8(ascii: "?")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@Suite struct GeneratorTests {
    func generator() throws -> T5Generator {
        T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer())
    }

    func mixedOptions() -> [GenerationOptions] {
        var greedy = GenerationOptions(); greedy.maxNewTokens = 16
        var beam = greedy; beam.numBeams = 3; beam.numReturnSequences = 2
        var sampled = greedy; sampled.doSample = true; sampled.seed = 42; sampled.topK = 20; sampled.temperature = 0.8
        var penalised = greedy; penalised.repetitionPenalty = 1.3; penalised.noRepeatNgramSize = 2
        return [greedy, beam, sampled, penalised]
    }

    @Test func eightConcurrentCallsEqualSerialRuns() async throws {
        let g = try generator()
        let prompts = ["What is 2 + 2?", "Translate to German: hello", "abc", "A longer prompt, with punctuation!"]
        let jobs = (0..<8).map { (prompts[$0 % 4], mixedOptions()[$0 % 4]) }
        var serial: [Generation] = []
        for (p, o) in jobs { serial.append(try await g.generate(prompt: p, options: o)) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, Generation).self) { group in
            for (i, job) in jobs.enumerated() {
                group.addTask { (i, try await g.generate(prompt: job.0, options: job.1)) }
            }
            var out = [Generation?](repeating: nil, count: jobs.count)
            for try await (i, r) in group { out[i] = r }
            return out.map { $0! }
        }
        #expect(concurrent == serial)
        #expect(serial[1].sequences.count == 2)
    }

    @Test func sameSeedSameSampleDifferentSeedDifferent() async throws {
        let g = try generator()
        var o = GenerationOptions(); o.maxNewTokens = 20; o.doSample = true; o.topK = 0; o.temperature = 1.5
        o.seed = 1
        let a = try await g.generate(prompt: "seeded", options: o)
        let b = try await g.generate(prompt: "seeded", options: o)
        o.seed = 2
        let c = try await g.generate(prompt: "seeded", options: o)
        #expect(a.tokens == b.tokens)
        #expect(a.tokens != c.tokens)
    }

    @Test func streamedPiecesJoinToTheGeneratedText() async throws {
        let g = try generator()
        var o = GenerationOptions(); o.maxNewTokens = 24
        let full = try await g.generate(prompt: "stream me", options: o)
        var pieces: [String] = []
        for try await piece in g.stream(prompt: "stream me", options: o) { pieces.append(piece) }
        #expect(pieces.joined() == full.text)
        #expect(pieces.count > 1)
    }

    /// Cancelling the task ends decoding with CancellationError. Were cancellation ignored, the call would
    /// return 20,000 tokens normally instead of throwing (no wall-clock bound: CI machines are shared).
    @Test func cancellingTheTaskThrowsCancellationError() async throws {
        let g = try generator()
        var o = GenerationOptions(); o.maxNewTokens = 20_000; o.minNewTokens = 20_000
        let task = Task { try await g.generate(prompt: "never ending", options: o) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    /// The engine checks for cancellation before every decoder step, for every strategy.
    @Test func cancellationHookStopsAtTheNextStep() throws {
        let model = try Fixtures.model("v11-gated")
        for beams in [1, 3] {
            var o = GenerationOptions(); o.maxNewTokens = 50; o.minNewTokens = 50; o.numBeams = beams
            var asked = 0
            let hooks = GenerationHooks(isCancelled: { asked += 1; return asked > 5 })
            let out = try model.generate(prompts: [[5, 6, 7, 1]], options: o, hooks: hooks)
            #expect(out[0][0].finishReason == .cancelled, "beams \(beams)")
            #expect(out[0][0].tokens.count == 5, "beams \(beams)")
        }
    }

    @Test func stopStringEndsTheRow() async throws {
        let g = try generator()
        var o = GenerationOptions(); o.maxNewTokens = 24
        let full = try await g.generate(prompt: "stop test", options: o)
        // Stop at the text of the first three generated tokens.
        let stop = ByteTokenizer().decodeSkippingSpecial(Array(full.tokens.prefix(3)))
        try #require(!stop.isEmpty && full.tokens.count > 3)
        o.stopStrings = [stop]
        let stopped = try await g.generate(prompt: "stop test", options: o)
        #expect(stopped.finishReason == .stop)
        #expect(stopped.tokens.count <= 3 && full.tokens.starts(with: stopped.tokens))
    }

    @Test func selfConsistencyVotesOverSampledPaths() async throws {
        let g = try generator()
        var o = GenerationOptions(); o.maxNewTokens = 12; o.temperature = 0.7; o.seed = 3
        let r = try await g.reason(question: "2+2?", mode: .zeroShot(.default), selfConsistency: 5, options: o)
        #expect(r.paths.count == 5)
        #expect(r.votes >= 1 && r.votes <= 5)
        #expect(r.votes == r.paths.map(AnswerExtraction.answer(from:)).filter { $0 == r.answer }.count)
        #expect(r.prompt == "2+2?\nAnswer the following question by reasoning step-by-step.")
    }
}
