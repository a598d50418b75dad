// Self-attention caches that grow with each row (32 steps, then doubling): outputs past the chunk boundaries equal
// transformers' (Scripts/make_fixtures.py --growth-only, `<model>.growth.json`), memory follows the tokens decoded
// rather than maxNewTokens, growth past the memory limit is a typed error, and f16 / int8 caches stay close to f32.
import Foundation
import Testing
@testable import T5Modeling
@testable import T5Engine

struct GrowthReference: Decodable {
    struct TeacherForced: Decodable {
        let promptIndex: Int
        let tokens: [Int]
        let steps: [Int]
        let logits: [[Float]]
        enum CodingKeys: String, CodingKey { case tokens, steps, logits, promptIndex = "prompt_index" }
    }
    let cases: [GenerateCase]
    let teacherForced: TeacherForced
    enum CodingKeys: String, CodingKey { case cases, teacherForced = "teacher_forced" }

    static func load(_ name: String) throws -> GrowthReference {
        let url = Fixtures.root.appendingPathComponent("reference/\(name).growth.json")
        return try JSONDecoder().decode(GrowthReference.self, from: Data(contentsOf: url))
    }
}

@Suite struct GrowingCacheTests {
    static let models = ["v11-gated", "t5-relu-tied"]

    /// Greedy and beam outputs of 66-100 tokens (beams reordered across growth) equal transformers'.
    @Test(arguments: models)
    func outputsPastChunkBoundariesMatchTransformers(_ name: String) throws {
        let model = try Fixtures.model(name), prompts = try Fixtures.reference(name).prompts
        let growth = try GrowthReference.load(name)
        for c in growth.cases {
            #expect(c.sequences.allSatisfy { $0.count > 64 }, "\(c.name): the fixture must cross 64 steps")
            let ours = try model.generate(prompts: c.promptIndices.map { prompts[$0] }, options: options(from: c.kwargs)).flatMap { $0 }
            #expect(ours.map(\.tokens) == c.sequences, "\(name) \(c.name)")
            for (s, expected) in zip(ours, c.sequencesScores ?? []) {
                let score = try #require(s.score)
                #expect(abs(score - expected) <= 1e-4 * max(1, abs(expected)), "\(name) \(c.name): score \(score) vs \(expected)")
            }
        }
    }

    /// Teacher-forced logits at steps 31-33, 63-65 and 99 equal transformers', in a session sized for a million
    /// steps whose cache is only as large as the steps taken.
    @Test(arguments: models)
    func logitsAroundChunkBoundariesMatchTransformers(_ name: String) throws {
        let model = try Fixtures.model(name), prompts = try Fixtures.reference(name).prompts
        let tf = try GrowthReference.load(name).teacherForced
        let session = try DecodingSession(model: model, prompts: [prompts[tf.promptIndex]], maxSteps: 1 << 20)
        let row = session.rows[0], cache = session.state.cache
        var token = model.config.decoderStartTokenId
        for t in 0..<tf.tokens.count {
            try session.step([token])
            #expect(cache.steps[row] == (t < 32 ? 32 : t < 64 ? 64 : 128), "step \(t): \(cache.steps[row]) positions held")
            if let i = tf.steps.firstIndex(of: t) {
                let (error, scale) = maxAbsError(session.logits(row: row), tf.logits[i])
                #expect(error <= 1e-4 * max(1, scale), "\(name) step \(t): max |Δ| \(error) over scale \(scale)")
            }
            token = tf.tokens[t]
        }
        #expect(cache.allocatedBytes == cache.slotBytes(steps: 128))
    }

    /// A request for a million new tokens that stops early allocates what one for 100 does.
    @Test func aHugeMaxNewTokensCostsOnlyWhatIsDecoded() throws {
        let model = try Fixtures.model("v11-gated"), prompt = try Fixtures.reference("v11-gated").prompts[0]
        func held(maxSteps: Int) throws -> Int {
            let session = try DecodingSession(model: model, prompts: [prompt], maxSteps: maxSteps)
            for _ in 0..<40 { try session.step([0]) }
            return session.allocatedBytes
        }
        #expect(try held(maxSteps: 1 << 20) == held(maxSteps: 100))
    }

    /// The bound up to maxNewTokens is refused before anything is allocated; growth a session's limit cannot hold is
    /// refused at the step that needs it, typed, and the session goes on without it.
    @Test func growthPastTheLimitIsATypedError() throws {
        let dir = Fixtures.modelDirectory("v11-gated")
        let prompt = try Fixtures.reference("v11-gated").prompts[0]
        let tight = try T5Model(directory: dir, memoryLimitBytes: 8 << 20)
        #expect {
            _ = try tight.generateGreedy(prompts: [prompt], maxNewTokens: 1 << 20)
        } throws: { error in
            guard case RequestError.tooLarge(_, let limit, let what) = error else { return false }
            return limit == 8 << 20 && what.contains("1048576 decoder steps")
        }

        // A session that holds 32 steps but not 64.
        let probe = try DecodingSession(model: try Fixtures.model("v11-gated"), capacity: 1, maxSteps: 1000)
        let encoded = try probe.model.encodeForDecoding(prompts: [prompt])
        _ = try probe.join(encoded, prompt: 0)
        try probe.step([0])
        let limit = probe.allocatedBytes + probe.state.cache.slotBytes(steps: 16)
        let model = try T5Model(directory: dir, memoryLimitBytes: limit)
        let session = try DecodingSession(model: model, capacity: 1, maxSteps: 1000)
        let row = try session.join(try model.encodeForDecoding(prompts: [prompt]), prompt: 0)[0]
        for _ in 0..<32 { try session.step([0]) }
        #expect {
            try session.step([0])
        } throws: { error in
            guard case RequestError.tooLarge(_, let l, let what) = error else { return false }
            return l == limit && what.contains("to 64 steps")
        }
        #expect(session.position(of: row) == 32)
        try session.leave(row: row)
        #expect(session.allocatedBytes <= limit)
    }

    /// In a shared loop, the request whose rows cannot grow fails alone; the other finishes as it would alone.
    @Test func aSharedLoopFailsOnlyTheRequestThatDoesNotFit() throws {
        let dir = Fixtures.modelDirectory("v11-gated")
        let prompts = try Fixtures.reference("v11-gated").prompts
        var long = GenerationOptions(), short = GenerationOptions()
        long.maxNewTokens = 100
        long.minNewTokens = 100
        short.maxNewTokens = 20
        let reference = try Fixtures.model("v11-gated").generate(prompts: [prompts[2]], options: short)
        // Room for both rows' first chunks, not for a second chunk.
        let probe = try DecodingSession(model: try Fixtures.model("v11-gated"), capacity: 2, maxSteps: 100)
        let limit = probe.allocatedBytes + 2 * probe.state.cache.slotBytes(steps: 32) + 4096
        let model = try T5Model(directory: dir, memoryLimitBytes: limit)
        let loop = SharedDecodingLoop(session: try DecodingSession(model: model, capacity: 2, maxSteps: 100))
        let a = try loop.add(long.makeDecoder(promptCount: 1, eos: 1), encoded: try model.encodeForDecoding(prompts: [prompts[0]]))
        let b = try loop.add(short.makeDecoder(promptCount: 1, eos: 1), encoded: try model.encodeForDecoding(prompts: [prompts[2]]))
        var failed: [Int: any Error] = [:], finished: [Int: [[GeneratedSequence]]] = [:]
        while loop.count > 0 {
            for event in try loop.step() {
                if case .failed(let id, let error) = event { failed[id] = error }
                if case .finished(let id, let sequences) = event { finished[id] = sequences }
            }
        }
        #expect(finished[b]?.map { $0.map(\.tokens) } == reference.map { $0.map(\.tokens) })
        let error = try #require(failed[a])
        #expect(error is RequestError, "\(error)")
    }

    /// f16 and int8 caches (cross- and self-attention), teacher-forced along the f32 greedy outputs: how often the
    /// top-1 id stays the same.
    @Test(arguments: models)
    func narrowCachesAgreeWithF32(_ name: String) throws {
        let prompts = try Fixtures.reference(name).prompts
        let growth = try GrowthReference.load(name)
        let models = try Dictionary(uniqueKeysWithValues: KVCacheFormat.allCases.map {
            ($0, try T5Model(directory: Fixtures.modelDirectory(name), kvCache: $0))
        })
        var equal: [KVCacheFormat: Int] = [:], total = 0
        for c in growth.cases where c.promptIndices.count == 1 || c.sequences.count == c.promptIndices.count {
            for (prompt, target) in zip(c.promptIndices.map { prompts[$0] }, c.sequences) {
                let f32 = try topOne(models[.f32]!, prompt, target)
                total += f32.count
                for format in [KVCacheFormat.f16, .int8] {
                    let ids = try topOne(models[format]!, prompt, target)
                    equal[format, default: 0] += zip(ids, f32).filter { $0 == $1 }.count
                }
            }
        }
        print("GrowingCache \(name): top-1 equal to f32 over \(total) steps: f16 \(equal[.f16]!)/\(total), int8 \(equal[.int8]!)/\(total)")
        #expect(equal[.f16]! >= total * 98 / 100)
        #expect(equal[.int8]! >= total * 97 / 100)
        // Generation (batched, beams) runs end to end on both.
        for format in [KVCacheFormat.f16, .int8] {
            var o = GenerationOptions()
            o.maxNewTokens = 40
            o.numBeams = 2
            #expect(try models[format]!.generate(prompts: [prompts[0], prompts[1]], options: o).count == 2)
        }
    }

    func topOne(_ model: T5Model, _ prompt: [Int], _ target: [Int]) throws -> [Int] {
        let session = try DecodingSession(model: model, prompts: [prompt], maxSteps: target.count)
        #expect(session.kvCache == model.kvCache)
        var token = model.config.decoderStartTokenId, ids: [Int] = []
        for t in target {
            try session.step([token])
            ids.append(try #require(session.withLogits(row: session.rows[0], argmax)))
            token = t
        }
        return ids
    }
}
