// Requests of every kind sharing one decoding session (a continuously batching server's loop) must each give
// exactly what they give alone: greedy and beam ids equal, seeded samples equal, beam scores to rounding.
import Foundation
import Testing
@testable import T5Engine

@Suite struct SharedDecodingLoopTests {
    struct Request {
        let prompts: [[Int]]
        let options: GenerationOptions
        let joinAtStep: Int
    }

    func options(_ edit: (inout GenerationOptions) -> Void) -> GenerationOptions {
        var o = GenerationOptions()
        o.maxNewTokens = 12
        edit(&o)
        return o
    }

    @Test func mixedRequestsJoiningAtDifferentStepsEqualTheirOutputAlone() throws {
        let model = try Fixtures.model("v11-gated")
        let eos = model.config.eosTokenId
        let requests = [
            Request(prompts: [[5, 6, 7, 8, 9, 10, 1]], options: options { _ in }, joinAtStep: 0),
            Request(prompts: [[11, 12, 13, 1], [30, 31, 1]], options: options { $0.numBeams = 3; $0.numReturnSequences = 2 }, joinAtStep: 0),
            Request(prompts: [[20, 21, 22, 23, 24, 25, 26, 27, 28, 1]],
                    options: options { $0.doSample = true; $0.seed = 7; $0.numReturnSequences = 2; $0.topK = 20 }, joinAtStep: 2),
            Request(prompts: [[40, 41, 42, 1]], options: options { $0.repetitionPenalty = 1.3; $0.maxNewTokens = 5 }, joinAtStep: 3),
            Request(prompts: [[50, 51, 1]], options: options { $0.numBeams = 2; $0.maxNewTokens = 8 }, joinAtStep: 5),
        ]
        let alone = try requests.map { try model.generate(prompts: $0.prompts, options: $0.options) }

        let session = try DecodingSession(model: model, capacity: 16, maxSteps: 12, reorderable: true)
        let loop = SharedDecodingLoop(session: session)
        var idToRequest: [Int: Int] = [:]
        var results: [Int: [[GeneratedSequence]]] = [:]
        var streamed: [Int: [Int: [Int]]] = [:]   // request -> (prompt * 16 + sequence) -> tokens
        var step = 0
        while results.count < requests.count {
            for (i, r) in requests.enumerated() where r.joinAtStep == step {
                let decoder = r.options.makeDecoder(promptCount: r.prompts.count, eos: eos)
                let id = try loop.add(decoder, encoded: try model.encodeForDecoding(prompts: r.prompts))
                idToRequest[id] = i
            }
            for event in try loop.step() {
                switch event {
                case .tokens(let id, let tokens):
                    for t in tokens { streamed[idToRequest[id]!, default: [:]][t.prompt * 16 + t.sequence, default: []].append(t.token) }
                case .finished(let id, let sequences): results[idToRequest[id]!] = sequences
                case .failed(_, let error): throw error
                }
            }
            step += 1
            #expect(step < 100, "the loop must end")
            if step >= 100 { break }
        }
        #expect(session.batch == 0, "every row left")
        for i in requests.indices {
            // Ids and finish reasons exactly; beam scores to float rounding (the batched kernels may sum a row's
            // products in another order when the batch holds other rows).
            let got = results[i] ?? [], want = alone[i]
            #expect(got.map { $0.map(\.tokens) } == want.map { $0.map(\.tokens) }, "request \(i): ids differ from its output alone")
            #expect(got.map { $0.map(\.finishReason) } == want.map { $0.map(\.finishReason) }, "request \(i): finish reasons differ")
            for (g, w) in zip(got.joined(), want.joined()) {
                #expect(abs((g.score ?? 0) - (w.score ?? 0)) <= 1e-5, "request \(i): score \(String(describing: g.score)) vs \(String(describing: w.score))")
            }
            if requests[i].options.numBeams == 1 {
                for (p, sequences) in alone[i].enumerated() {
                    for (k, s) in sequences.enumerated() {
                        #expect(streamed[i]?[p * 16 + k] == s.tokens, "request \(i) streamed tokens differ")
                    }
                }
            }
        }
    }

    @Test func cancelledRequestFreesItsRowsAndOthersGoOn() throws {
        let model = try Fixtures.model("v11-gated")
        let greedy = options { _ in }
        let want = try model.generate(prompts: [[5, 6, 7, 1]], options: greedy)
        let session = try DecodingSession(model: model, capacity: 4, maxSteps: 12, reorderable: true)
        let loop = SharedDecodingLoop(session: session)
        let beam = options { $0.numBeams = 3 }
        let gone = try loop.add(beam.makeDecoder(promptCount: 1, eos: 1), encoded: model.encodeForDecoding(prompts: [[9, 9, 1]]))
        let kept = try loop.add(greedy.makeDecoder(promptCount: 1, eos: 1), encoded: model.encodeForDecoding(prompts: [[5, 6, 7, 1]]))
        #expect(loop.freeRows == 0)
        _ = try loop.step()
        let partial = try loop.cancel(request: gone)
        #expect(partial[0].allSatisfy { $0.finishReason == .cancelled })
        #expect(loop.freeRows == 3)
        var got: [[GeneratedSequence]]?
        while got == nil {
            for case .finished(let id, let s) in try loop.step() where id == kept { got = s }
        }
        #expect(got == want)
        #expect(throws: RequestError.self) { try loop.cancel(request: gone) }
        // A request needing more rows than are free is refused before joining.
        let wide = options { $0.numBeams = 5 }
        #expect(throws: RequestError.self) { _ = try loop.add(wide.makeDecoder(promptCount: 1, eos: 1), encoded: model.encodeForDecoding(prompts: [[5, 1]])) }
        #expect(session.batch == 0)
    }
}
