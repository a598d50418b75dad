// LoRA adapters as peft saves them, merged at load, against peft's merged models (merge_and_unload): greedy ids
// equal, logits within the usual tolerance; merged before int8 packing by `t5 convert --lora`; refusals named.
// Adapters: models/lora-* (Scripts/make_fixtures.py --lora-only), references reference/lora-*.json.
import Foundation
import Testing
@testable import T5Engine

/// reference name -> adapters merged in order with their scales (as recorded in the reference's "adapters").
let loraCases: [(reference: String, adapters: [(String, Float)])] = [
    ("lora-qvff", [("lora-qvff", 1)]),
    ("lora-rs-kout", [("lora-rs-kout", 1)]),
    ("lora-both-half", [("lora-qvff", 1), ("lora-rs-kout", 0.5)]),
]

func loraAdapters(_ list: [(String, Float)]) throws -> [LoRAAdapter] {
    try list.map { try LoRAAdapter(directory: Fixtures.modelDirectory($0.0), scale: $0.1) }
}

@Suite struct LoRAParityTests {
    @Test(arguments: loraCases.map(\.reference))
    func mergedModelMatchesPeft(_ name: String) throws {
        let adapters = loraCases.first { $0.reference == name }!.adapters
        let model = try T5Model(directory: Fixtures.modelDirectory("v11-gated"), adapters: loraAdapters(adapters))
        let ref = try Fixtures.reference(name)
        var equal = 0
        for (i, single) in ref.single.enumerated() {
            try expectStepLogitsMatch(model, prompt: ref.prompts[i], single, "\(name) prompt \(i)")
            let ours = try model.generateGreedy(prompts: [ref.prompts[i]], maxNewTokens: ref.maxNewTokens)[0]
            #expect(ours == single.greedyIds, "\(name) prompt \(i)")
            if ours == single.greedyIds { equal += 1 }
        }
        let batch = try #require(ref.batch)
        let ours = try model.generateGreedy(prompts: batch.promptIndices.map { ref.prompts[$0] }, maxNewTokens: ref.maxNewTokens)
        #expect(ours == batch.greedyIds, "\(name) batch")
        print("LoRAParity \(name): \(equal)/\(ref.single.count) greedy runs equal, batch equal: \(ours == batch.greedyIds)")
    }

    /// `t5 convert --lora`: an f32 merge gives peft's outputs; an int8 merge packs the merged rows, byte for byte what
    /// converting the f32 merge gives.
    @Test func convertMergesBeforePacking() throws {
        let ref = try Fixtures.reference("lora-qvff")
        let adapters = try loraAdapters([("lora-qvff", 1)])
        let base = Fixtures.modelDirectory("v11-gated")
        try WeightsFixtures.withTempDirectory { dir in
            let merged = dir.appendingPathComponent("merged"), int8 = dir.appendingPathComponent("int8")
            let twoStep = dir.appendingPathComponent("int8-from-merged")
            try ModelConverter.convert(input: base, output: merged, dtype: .f32, adapters: adapters)
            let model = try T5Model(directory: merged)
            for (i, single) in ref.single.enumerated() {
                #expect(try model.generateGreedy(prompts: [ref.prompts[i]], maxNewTokens: ref.maxNewTokens)[0] == single.greedyIds)
            }
            try ModelConverter.convert(input: base, output: int8, dtype: .int8, adapters: adapters)
            try ModelConverter.convert(input: merged, output: twoStep, dtype: .int8)
            let a = try Data(contentsOf: int8.appendingPathComponent("model.safetensors"))
            let b = try Data(contentsOf: twoStep.appendingPathComponent("model.safetensors"))
            #expect(a == b)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: int8.appendingPathComponent("config.json"))) as? [String: Any]
            #expect((config?["t5_engine_merged_lora"] as? [[String: Any]])?.first?["adapter"] as? String == "lora-qvff")
        }
    }

    /// A LoRA over a bf16 checkpoint: the targeted layers are widened and merged (f32), the rest stay bf16.
    @Test func mergesIntoHalfWidthCheckpoints() throws {
        let plain = try T5Model(directory: Fixtures.modelDirectory("v11-bf16"))
        let model = try T5Model(directory: Fixtures.modelDirectory("v11-bf16"), adapters: loraAdapters([("lora-qvff", 1)]))
        #expect(plain.linearWeightFormat == "bf16")
        #expect(model.linearWeightFormat.contains("bf16") && model.linearWeightFormat.contains("f32"))
        // Scale 0 merges nothing: the outputs are the base model's.
        let zero = try T5Model(directory: Fixtures.modelDirectory("v11-bf16"), adapters: loraAdapters([("lora-qvff", 0)]))
        let ref = try Fixtures.reference("v11-bf16")
        #expect(try zero.generateGreedy(prompts: [ref.prompts[0]], maxNewTokens: 24)[0] == ref.single[0].greedyIds)
    }
}

/// Adapters that do not fit, or use what the engine does not merge: typed errors naming file and feature.
@Suite struct LoRARefusalTests {
    /// A temporary copy of fixture adapter `name`, with edits to its config and tensors.
    func withEditedAdapter<T>(_ name: String, config edit: (inout [String: Any]) -> Void = { _ in },
                              tensors editTensors: ((inout [String: EditableTensor]) -> Void)? = nil,
                              body: (URL) throws -> T) throws -> T {
        try WeightsFixtures.withTempDirectory { dir in
            let source = Fixtures.modelDirectory(name)
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("adapter_config.json"))) as! [String: Any]
            edit(&config)
            try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("adapter_config.json"))
            let weights = source.appendingPathComponent("adapter_model.safetensors")
            if let editTensors {
                let store = try WeightStore(file: weights)
                var tensors: [String: EditableTensor] = [:]
                for n in store.tensorNames {
                    let shape = store.info(n)!.shape
                    tensors[n] = EditableTensor(shape: shape, values: try store.floatTensor(n, shape: shape).values)
                }
                editTensors(&tensors)
                try ModelFolderEditor.writeSafetensors(tensors, to: dir.appendingPathComponent("adapter_model.safetensors"))
            } else {
                try FileManager.default.copyItem(at: weights, to: dir.appendingPathComponent("adapter_model.safetensors"))
            }
            return try body(dir)
        }
    }

    func refusal(_ adapter: URL, base: String = "v11-gated") -> AdapterError? {
        do {
            _ = try T5Model(directory: Fixtures.modelDirectory(base), adapters: [LoRAAdapter(directory: adapter)])
            return nil
        } catch let e as AdapterError { return e } catch { Issue.record("not an AdapterError: \(error)"); return nil }
    }

    @Test func unsupportedKindsAreNamed() throws {
        for (key, value) in [("use_dora", true as Any), ("modules_to_save", ["lm_head"] as Any), ("rank_pattern", ["q": 8] as Any),
                             ("layers_to_transform", [0] as Any), ("bias", "all" as Any), ("peft_type", "IA3" as Any)] {
            let e = try withEditedAdapter("lora-qvff", config: { $0[key] = value }, body: { refusal($0) })
            guard case .unsupported(_, let feature, _)? = e else { Issue.record("\(key): \(String(describing: e))"); continue }
            #expect(feature.contains(key == "peft_type" ? "IA3" : key), "\(key): \(feature)")
            #expect("\(e!)".contains("adapter_config.json"))
        }
    }

    @Test func wrongRankShapesTargetsAndMissingTensorsAreRefused() throws {
        // The config's rank disagrees with the tensors.
        let rank = try withEditedAdapter("lora-qvff", config: { $0["r"] = 8 }, body: { refusal($0) })
        guard case .shapeMismatch(_, let tensor, let expected, let actual)? = rank else { Issue.record("\(String(describing: rank))"); return }
        #expect(tensor.hasSuffix("lora_A.weight") && expected[0] == 8 && actual[0] == 4)
        // Another base model (odd-depth: d_model 48) does not fit the adapter's shapes.
        let shapes = refusal(Fixtures.modelDirectory("lora-qvff"), base: "odd-depth")
        guard case .shapeMismatch? = shapes else { Issue.record("\(String(describing: shapes))"); return }
        // target_modules leave out layers the file holds.
        let targets = try withEditedAdapter("lora-qvff", config: { $0["target_modules"] = ["q", "v"] }, body: { refusal($0) })
        guard case .unexpectedTensor(_, let extra, _)? = targets else { Issue.record("\(String(describing: targets))"); return }
        #expect(extra.contains("wi_0") || extra.contains("wo"))
        // target_modules naming nothing in the model.
        let none = try withEditedAdapter("lora-qvff", config: { $0["target_modules"] = ["query_proj"] }, body: { refusal($0) })
        guard case .noTargets? = none else { Issue.record("\(String(describing: none))"); return }
        // A missing factor.
        let missing = try withEditedAdapter("lora-qvff", tensors: { $0["base_model.model.encoder.block.1.layer.0.SelfAttention.v.lora_B.weight"] = nil }, body: { refusal($0) })
        guard case .missingTensor(_, let absent)? = missing else { Issue.record("\(String(describing: missing))"); return }
        #expect(absent == "base_model.model.encoder.block.1.layer.0.SelfAttention.v.lora_B.weight")
        // No adapter folder at all, and a bad scale.
        #expect(throws: AdapterError.self) { _ = try LoRAAdapter(directory: Fixtures.modelDirectory("v11-gated")) }
        #expect(throws: AdapterError.self) { _ = try LoRAAdapter(directory: Fixtures.modelDirectory("lora-qvff"), scale: .nan) }
    }

    @Test func cliRefusalsAreOneLine() throws {
        let base = Fixtures.modelDirectory("v11-gated").path
        let r = try CLI.run(["generate", "--model", base, "--ids", "5,1", "--lora", Fixtures.modelDirectory("t5-relu-tied").path])
        #expect(r.status != 0 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("adapter_config.json"), "\(r.stderr)")
        let s = try CLI.run(["generate", "--model", base, "--ids", "5,1", "--lora-scale", "2"])
        #expect(s.status != 0 && s.stderr.contains("--lora"), "\(s.stderr)")
        let ok = try CLI.run(["generate", "--model", base, "--ids", "416,233,1", "--max-new-tokens", "24",
                              "--lora", Fixtures.modelDirectory("lora-qvff").path, "--lora", Fixtures.modelDirectory("lora-rs-kout").path,
                              "--lora-scale", "1", "--lora-scale", "0.5"])
        let ref = try Fixtures.reference("lora-both-half")
        #expect(ref.prompts[0] == [416, 233, 1])
        #expect(ok.stdout == ref.single[0].greedyIds.map(String.init).joined(separator: ",") + "\n", "\(ok.stderr)")
    }
}
