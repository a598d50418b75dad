// The forward pass against transformers: encoder outputs, logits of the first steps, greedy ids, batches.
import Foundation
import Testing
@testable import T5Modeling
@testable import T5Engine

/// Relative tolerance on logits and encoder outputs: max |ours - theirs| <= 1e-4 * max |theirs|.
let relativeTolerance: Float = 1e-4

/// Every fixture model, and the reference it must reproduce (the sharded copy shares v11-gated's weights).
let parityCases: [(model: String, reference: String)] = [
    ("v11-gated", "v11-gated"), ("t5-relu-tied", "t5-relu-tied"), ("odd-depth", "odd-depth"),
    ("v11-bf16", "v11-bf16"), ("v11-f16", "v11-f16"), ("v11-sharded", "v11-gated"),
]

@Suite struct ForwardParityTests {
    @Test(arguments: parityCases.map { "\($0.model)|\($0.reference)" })
    func encoderOutputsMatch(_ pair: String) throws {
        let (name, refName) = split(pair)
        let model = try Fixtures.model(name), ref = try Fixtures.reference(refName)
        var checked = 0
        for (i, single) in ref.single.enumerated() {
            guard let expected = single.encoderOutput else { continue }
            let ours = try model.encode(prompts: [ref.prompts[i]]).hiddenStates[0]
            let (err, scale) = maxAbsError(ours, expected)
            #expect(err <= relativeTolerance * scale, "\(name) prompt \(i): encoder max abs err \(err), scale \(scale)")
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test(arguments: parityCases.map { "\($0.model)|\($0.reference)" })
    func stepLogitsMatch(_ pair: String) throws {
        let (name, refName) = split(pair)
        let model = try Fixtures.model(name), ref = try Fixtures.reference(refName)
        for (i, single) in ref.single.enumerated() {
            try expectStepLogitsMatch(model, prompt: ref.prompts[i], single, "\(name) prompt \(i)")
        }
    }

    @Test(arguments: parityCases.map { "\($0.model)|\($0.reference)" })
    func greedyIdsMatchOnEveryPrompt(_ pair: String) throws {
        let (name, refName) = split(pair)
        let model = try Fixtures.model(name), ref = try Fixtures.reference(refName)
        for (i, single) in ref.single.enumerated() {
            let ours = try model.generateGreedy(prompts: [ref.prompts[i]], maxNewTokens: ref.maxNewTokens)[0]
            #expect(ours == single.greedyIds, "\(name) prompt \(i) (length \(ref.prompts[i].count))")
        }
    }

    @Test(arguments: parityCases.map { "\($0.model)|\($0.reference)" })
    func batchMatchesTransformersAndSingleRuns(_ pair: String) throws {
        let (name, refName) = split(pair)
        let model = try Fixtures.model(name), ref = try Fixtures.reference(refName)
        let batchRef = try #require(ref.batch)
        let prompts = batchRef.promptIndices.map { ref.prompts[$0] }
        let ours = try model.generateGreedy(prompts: prompts, maxNewTokens: ref.maxNewTokens)
        #expect(ours == batchRef.greedyIds, "\(name): batched greedy ids")
        for (row, index) in batchRef.promptIndices.enumerated() {
            #expect(ours[row] == ref.single[index].greedyIds, "\(name): batch row \(row) differs from its single run")
        }
        if let step0 = batchRef.step0Logits {
            let session = try DecodingSession(model: model, prompts: prompts, maxSteps: 1)
            try session.step(Array(repeating: model.config.decoderStartTokenId, count: prompts.count))
            for (row, expected) in step0.enumerated() {
                let (err, scale) = maxAbsError(session.logits(row: row), expected)
                #expect(err <= relativeTolerance * scale, "\(name) batch row \(row): step-0 logits max abs err \(err)")
            }
        }
    }

    /// Enough copies of every prompt that the encoder runs them in several groups (`PromptBatch.encoderGroupRows`),
    /// with a group boundary inside the copies: every row still equals its prompt's transformers greedy ids, and its
    /// encoder output equals the prompt encoded alone.
    @Test(arguments: ["v11-gated", "t5-relu-tied"])
    func promptsEncodedInGroupsMatchTransformers(_ name: String) throws {
        let model = try Fixtures.model(name), ref = try Fixtures.reference(name)
        let padded = try #require(ref.prompts.map(\.count).max())
        let copies = PromptBatch.encoderGroupRows / (ref.prompts.count * padded) + 2
        let prompts = Array(Array(repeating: ref.prompts, count: copies).joined())
        let groups = PromptBatch(prompts, padId: model.config.padTokenId).encoderGroups
        #expect(groups.count >= 2 && groups.dropLast().allSatisfy { $0.count * padded <= PromptBatch.encoderGroupRows })
        let ours = try model.generateGreedy(prompts: prompts, maxNewTokens: ref.maxNewTokens)
        for (row, ids) in ours.enumerated() {
            #expect(ids == ref.single[row % ref.prompts.count].greedyIds, "\(name) row \(row) of \(prompts.count)")
        }
        let batched = try model.encode(prompts: prompts).hiddenStates
        for (i, prompt) in ref.prompts.enumerated() {
            let alone = try model.encode(prompts: [prompt]).hiddenStates[0]
            for row in [i, prompts.count - ref.prompts.count + i] {
                let (err, scale) = maxAbsError(batched[row], alone)
                #expect(err <= relativeTolerance * scale, "\(name) prompt \(i), batch row \(row): encoder err \(err)")
            }
        }
    }

    private func split(_ pair: String) -> (String, String) {
        let parts = pair.split(separator: "|").map(String.init)
        return (parts[0], parts[1])
    }
}
