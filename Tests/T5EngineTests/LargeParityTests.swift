// Opt-in: the exact flan-t5-small / flan-t5-base configurations (random weights, hundreds of MB, not committed),
// built by `python Scripts/make_fixtures.py --large DIR`. Run with T5_LARGE_FIXTURES=DIR swift test --filter LargeParity.
import Foundation
import Testing
@testable import T5Engine

private let largeRoot = ProcessInfo.processInfo.environment["T5_LARGE_FIXTURES"]

@Suite(.enabled(if: largeRoot != nil, "set T5_LARGE_FIXTURES to the folder made by make_fixtures.py --large"))
struct LargeParityTests {
    @Test(arguments: ["flan-t5-small", "flan-t5-base"])
    func greedyIdsAndLogitsMatchTransformers(_ name: String) throws {
        let root = URL(fileURLWithPath: largeRoot!)
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: root.appendingPathComponent("\(name).json")))
        let model = try T5Model(directory: root.appendingPathComponent(name))
        #expect(ref.prompts.count >= 8 && ref.maxNewTokens >= 128)
        for (i, single) in ref.single.enumerated() {
            let ours = try model.generateGreedy(prompts: [ref.prompts[i]], maxNewTokens: ref.maxNewTokens)[0]
            #expect(ours == single.greedyIds, "\(name) prompt \(i)")
            try expectStepLogitsMatch(model, prompt: ref.prompts[i], single, "\(name) prompt \(i)")
        }
        if let batch = ref.batch {
            let ours = try model.generateGreedy(prompts: batch.promptIndices.map { ref.prompts[$0] }, maxNewTokens: ref.maxNewTokens)
            #expect(ours == batch.greedyIds, "\(name) batch")
        }
    }
}
