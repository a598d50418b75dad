// Broken model folders and bad requests: each gets its own typed error, never a crash.
import Foundation
import Testing
@testable import T5Engine

@Suite struct ModelFolderTests {
    @Test func unchangedCopyLoadsAndMatches() throws {
        let ref = try Fixtures.reference("v11-gated")
        try ModelFolderEditor.withEditedCopy(of: "v11-gated") { dir in
            let model = try T5Model(directory: dir)
            #expect(try model.generateGreedy(prompts: [ref.prompts[0]], maxNewTokens: ref.maxNewTokens)[0] == ref.single[0].greedyIds)
        }
    }

    @Test func missingTensorIsNamed() throws {
        let name = "decoder.block.1.layer.2.DenseReluDense.wo.weight"
        try ModelFolderEditor.withEditedCopy(of: "v11-gated", editTensors: { $0[name] = nil }) { dir in
            #expect(throws: WeightsError.missingTensor(name: name, directory: dir.path)) { _ = try T5Model(directory: dir) }
        }
    }

    @Test func wrongShapeIsNamed() throws {
        let name = "encoder.block.0.layer.1.DenseReluDense.wi_0.weight"   // [128, 64]
        try ModelFolderEditor.withEditedCopy(of: "v11-gated", editTensors: { $0[name]!.shape = [64, 128] }) { dir in
            #expect {
                try T5Model(directory: dir)
            } throws: { error in
                guard case WeightsError.shapeMismatch(let n, let expected, let actual, _) = error else { return false }
                return n == name && expected == [128, 64] && actual == [64, 128]
            }
        }
    }

    @Test func configDisagreeingWithWeightsIsRefused() throws {
        try ModelFolderEditor.withEditedCopy(of: "v11-gated", editConfig: { $0["d_model"] = 96 }) { dir in
            #expect {
                try T5Model(directory: dir)
            } throws: { error in
                if case WeightsError.shapeMismatch = error { return true }
                return false
            }
        }
        // The untied head is required when the config says the embeddings are untied.
        try ModelFolderEditor.withEditedCopy(of: "v11-gated", editTensors: { $0["lm_head.weight"] = nil }) { dir in
            #expect(throws: WeightsError.missingTensor(name: "lm_head.weight", directory: dir.path)) { _ = try T5Model(directory: dir) }
        }
    }

    @Test func nanInALayerNormIsCaughtAtLoad() throws {
        let name = "decoder.final_layer_norm.weight"
        try ModelFolderEditor.withEditedCopy(of: "v11-gated", editTensors: { $0[name]!.values[5] = .nan }) { dir in
            #expect(throws: WeightsError.nonFiniteValues(name: name, index: 5, directory: dir.path)) { _ = try T5Model(directory: dir) }
        }
    }

    @Test func nanInAMatrixBecomesAnErrorNotAnAnswer() throws {
        let name = "decoder.block.0.layer.2.DenseReluDense.wo.weight"
        try ModelFolderEditor.withEditedCopy(of: "v11-gated", editTensors: { $0[name]!.values[0] = .nan }) { dir in
            let model = try T5Model(directory: dir)
            #expect(throws: GenerationError.nonFiniteLogits(row: 0, step: 0)) {
                _ = try model.generateGreedy(prompts: [[5, 6, 1]], maxNewTokens: 4)
            }
            var beam = GenerationOptions(); beam.numBeams = 2; beam.maxNewTokens = 4
            #expect(throws: GenerationError.self) { _ = try model.generate(prompts: [[5, 6, 1]], options: beam) }
            var sampled = GenerationOptions(); sampled.doSample = true; sampled.maxNewTokens = 4
            #expect(throws: GenerationError.nonFiniteLogits(row: 0, step: 0)) { _ = try model.generate(prompts: [[5, 6, 1]], options: sampled) }
        }
    }

    @Test func pathsThatAreNotModelFolders() throws {
        #expect(throws: ConfigError.noSuchModelFolder(path: "/nonexistent/t5")) {
            _ = try T5Model(directory: URL(fileURLWithPath: "/nonexistent/t5"))
        }
        // A file given as the folder: its config.json cannot exist.
        let file = Fixtures.modelDirectory("v11-gated").appendingPathComponent("config.json")
        #expect(throws: ConfigError.notAModelFolder(path: file.path)) { _ = try T5Model(directory: file) }
        // A folder with a config but no weights.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5-noweights-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: file, to: dir.appendingPathComponent("config.json"))
        #expect(throws: WeightsError.noWeightsFile(directory: dir.path)) { _ = try T5Model(directory: dir) }
    }

    @Test func badPromptsAreRefusedBeforeWork() throws {
        let model = try Fixtures.model("v11-gated")
        #expect(throws: RequestError.emptyBatch) { _ = try model.generateGreedy(prompts: [], maxNewTokens: 4) }
        #expect(throws: RequestError.emptyPrompt(row: 1)) { _ = try model.generateGreedy(prompts: [[1], []], maxNewTokens: 4) }
        #expect(throws: RequestError.tokenOutOfRange(row: 0, position: 1, id: 512, vocabularySize: 512)) {
            _ = try model.generateGreedy(prompts: [[5, 512, 1]], maxNewTokens: 4)
        }
        #expect(throws: RequestError.tokenOutOfRange(row: 0, position: 0, id: -1, vocabularySize: 512)) {
            _ = try model.encode(prompts: [[-1]])
        }
        #expect(try model.generateGreedy(prompts: [[5, 1]], maxNewTokens: 0) == [[]])
    }

    @Test func oversizedRequestsAreRefusedBeforeAllocating() throws {
        let model = try T5Model(directory: Fixtures.modelDirectory("v11-gated"), memoryLimitBytes: 64 << 20)
        // A 1M-token prompt needs terabytes of attention scores: refused, nothing allocated.
        let huge = [Int](repeating: 5, count: 1_000_000)
        #expect {
            try model.generateGreedy(prompts: [huge], maxNewTokens: 4)
        } throws: { error in
            if case RequestError.tooLarge = error { return true }
            return false
        }
        var options = GenerationOptions()
        options.maxNewTokens = GenerationOptions.maxNewTokensLimit
        options.numBeams = 8
        #expect {
            try model.generate(prompts: Array(repeating: [5, 1], count: 64), options: options)
        } throws: { error in
            if case RequestError.tooLarge = error { return true }
            return false
        }
    }
}
