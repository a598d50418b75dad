// Rows join and leave a decoding session between steps (what a continuously batching server does); each row
// must see exactly what it would see decoded alone.
import Foundation
import Testing
@testable import T5Modeling
@testable import T5Engine

@Suite struct DecodingSessionTests {
    let promptA = [5, 6, 7, 8, 9, 10, 1]
    let promptB = [11, 12, 13, 1]
    let promptC = [20, 21, 22, 23, 24, 25, 26, 27, 28, 1]   // longer than any prompt the session has seen

    /// Greedy decoding of one prompt in a session of its own: the logits of each step.
    func alone(_ model: T5Model, _ prompt: [Int], steps: Int) throws -> [[Float]] {
        let session = try DecodingSession(model: model, prompts: [prompt], maxSteps: steps)
        var token = model.config.decoderStartTokenId, out: [[Float]] = []
        for _ in 0..<steps {
            try session.step([token])
            let logits = session.logits(row: session.rows[0])
            out.append(logits)
            token = logits.withUnsafeBufferPointer { argmax($0)! }
        }
        return out
    }

    func expectClose(_ got: [Float], _ want: [Float], _ label: String) {
        let scale = want.map(abs).max() ?? 1
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * scale, "\(label): max |Δ| \(worst) over scale \(scale)")
        #expect(got.withUnsafeBufferPointer { argmax($0) } == want.withUnsafeBufferPointer { argmax($0) }, "\(label): greedy id differs")
    }

    @Test func rowsThatJoinLateAndLeaveEarlyMatchRowsDecodedAlone() throws {
        let model = try Fixtures.model("v11-gated")
        let steps = 10
        let refA = try alone(model, promptA, steps: steps), refB = try alone(model, promptB, steps: steps)
        let refC = try alone(model, promptC, steps: steps)

        let session = try DecodingSession(model: model, capacity: 2, maxSteps: steps)
        var next: [Int: Int] = [:], taken: [Int: Int] = [:], reference: [Int: [[Float]]] = [:]
        func start(_ encoded: EncodedPrompts, _ index: Int, _ ref: [[Float]]) throws -> Int {
            let id = try session.join(encoded, prompt: index)[0]
            next[id] = model.config.decoderStartTokenId
            taken[id] = 0
            reference[id] = ref
            return id
        }
        func step() throws {
            try session.step(session.rows.map { next[$0]! })
            for id in session.rows {
                let logits = session.logits(row: id)
                expectClose(logits, reference[id]![taken[id]!], "row \(id) step \(taken[id]!)")
                next[id] = logits.withUnsafeBufferPointer { argmax($0)! }
                taken[id]! += 1
                #expect(session.position(of: id) == taken[id]!)
            }
        }

        let a = try start(try model.encodeForDecoding(prompts: [promptA]), 0, refA)
        for _ in 0..<3 { try step() }                                   // A alone
        let bc = try model.encodeForDecoding(prompts: [promptB, promptC])
        let b = try start(bc, 0, refB)                                  // B joins at A's step 3
        for _ in 0..<4 { try step() }
        try session.leave(row: a)                                       // A leaves after 7 steps
        #expect(session.rows == [b])
        let c = try start(bc, 1, refC)                                  // C takes A's slot
        #expect(c == a)
        #expect(throws: RequestError.self) { _ = try session.join(bc, prompt: 0) }   // full: capacity 2
        for _ in 0..<6 { try step() }                                   // B reaches its limit
        #expect(taken[b] == steps)
        #expect(throws: RequestError.stepLimitReached(limit: steps)) { try session.step([next[b]!, next[c]!]) }
        try session.leave(row: b)
        for _ in 0..<4 { try step() }                                   // C alone to the end
        #expect(taken[c] == steps)
    }

    @Test func misuseIsATypedError() throws {
        let model = try Fixtures.model("v11-gated"), other = try Fixtures.model("odd-depth")
        let session = try DecodingSession(model: model, capacity: 3, maxSteps: 4)
        let encoded = try model.encodeForDecoding(prompts: [promptA, promptB])
        #expect(throws: RequestError.self) { _ = try session.join(try other.encodeForDecoding(prompts: [promptA]), prompt: 0) }
        #expect(throws: RequestError.self) { _ = try session.join(encoded, prompt: 2) }
        #expect(throws: RequestError.self) { _ = try session.join(encoded, prompt: 0, rows: 4) }
        #expect(throws: RequestError.self) { try session.leave(row: 0) }
        let rows = try session.join(encoded, prompt: 0, rows: 2) + session.join(encoded, prompt: 1)
        #expect(throws: RequestError.self) { try session.step([0, 0]) }
        #expect(throws: RequestError.self) { try session.step([0, 0, model.config.vocabSize]) }
        try session.step([0, 0, 0])
        // Rows may take over the cache of a row of the same prompt only.
        try session.reorder(rows: [rows[1], rows[0], rows[2]])
        #expect(throws: RequestError.self) { try session.reorder(rows: [rows[2], rows[1], rows[2]]) }
        #expect(throws: RequestError.self) { _ = try DecodingSession(model: model, capacity: 0, maxSteps: 4) }
        #expect(throws: RequestError.self) { _ = try DecodingSession(model: model, capacity: 1, maxSteps: 0) }
    }

    /// An empty session's memory is checked before anything is allocated, like a request's.
    @Test func anOversizedSessionIsRefused() throws {
        let dir = Fixtures.modelDirectory("v11-gated")
        let small = try T5Model(directory: dir, memoryLimitBytes: 1 << 20)
        #expect(throws: RequestError.self) { _ = try DecodingSession(model: small, capacity: 64, maxSteps: 4096) }
        #expect(throws: RequestError.self) { _ = try small.encodeForDecoding(prompts: [[Int]](repeating: promptC, count: 4096)) }
    }
}
