// A PEFT LoRA adapter as `peft` saves it (adapter_config.json + adapter_model.safetensors), checked against a base
// model and merged into its weights at load: W += scale · (alpha / r) · B·A (alpha / sqrt(r) with rsLoRA).
import Foundation
import T5SafeTensors
import T5Tensor

/// A loaded adapter folder and the multiplier it is merged with (`--lora-scale`; 1 = as trained).
public struct LoRAAdapter: Sendable {
    public let directory: URL
    /// LoRA rank `r`.
    public let rank: Int
    public let alpha: Double
    public let useRSLoRA: Bool
    /// `target_modules` as written: names matched as the last components of a module path, or one regular expression
    /// matched against the whole path (peft's two forms), or "all-linear".
    public let targets: Targets
    public let scale: Float
    let store: WeightStore

    public enum Targets: Sendable, Equatable {
        case names([String])
        case pattern(String)
        case allLinear
    }

    /// The factor B·A is multiplied by when merged: scale · alpha / r (rsLoRA: alpha / sqrt(r)).
    public var mergeScale: Float {
        Float(Double(scale) * alpha / (useRSLoRA ? Double(rank).squareRoot() : Double(rank)))
    }

    /// Reads and checks `directory`; features that would change the merge but are not implemented are refused by name.
    public init(directory: URL, scale: Float = 1) throws {
        guard scale.isFinite else { throw AdapterError.badScale(value: scale) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AdapterError.notAFolder(path: directory.path)
        }
        let configURL = directory.appendingPathComponent("adapter_config.json")
        let weightsURL = directory.appendingPathComponent("adapter_model.safetensors")
        guard FileManager.default.fileExists(atPath: configURL.path) else { throw AdapterError.missingFile(path: configURL.path) }
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let bin = directory.appendingPathComponent("adapter_model.bin")
            if FileManager.default.fileExists(atPath: bin.path) {
                throw AdapterError.unsupported(path: bin.path, feature: "adapter_model.bin", reason: "save the adapter with safe_serialization=True (adapter_model.safetensors)")
            }
            throw AdapterError.missingFile(path: weightsURL.path)
        }
        let path = configURL.path
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] else {
                throw AdapterError.badConfig(path: path, reason: "not a JSON object")
            }
            object = o
        } catch let e as AdapterError { throw e } catch {
            throw AdapterError.badConfig(path: path, reason: "not valid JSON: \(error.localizedDescription)")
        }
        let peftType = object["peft_type"] as? String ?? "LORA"
        guard peftType == "LORA" else {
            throw AdapterError.unsupported(path: path, feature: "peft_type \(peftType)", reason: "only LoRA adapters can be merged")
        }
        guard let r = (object["r"] as? NSNumber)?.intValue, r >= 1, (object["r"] as? NSNumber)?.doubleValue == Double(r) else {
            throw AdapterError.badConfig(path: path, reason: "'r' (the LoRA rank) must be a whole number >= 1")
        }
        guard let alpha = (object["lora_alpha"] as? NSNumber)?.doubleValue, alpha.isFinite else {
            throw AdapterError.badConfig(path: path, reason: "'lora_alpha' must be a number")
        }
        try Self.refuseUnsupported(object, path: path)
        switch object["target_modules"] {
        case let list as [String] where !list.isEmpty: targets = .names(list)
        case let text as String where text == "all-linear": targets = .allLinear
        case let text as String:
            guard (try? NSRegularExpression(pattern: text)) != nil else {
                throw AdapterError.badConfig(path: path, reason: "target_modules '\(text)' is not a valid regular expression")
            }
            targets = .pattern(text)
        default: throw AdapterError.badConfig(path: path, reason: "'target_modules' must be a non-empty list of module names or a regular expression")
        }
        rank = r
        self.alpha = alpha
        useRSLoRA = object["use_rslora"] as? Bool ?? false
        self.directory = directory
        self.scale = scale
        store = try WeightStore(file: weightsURL)
    }

    /// Settings that change what a merge must do; each is refused unless it holds its no-op default.
    private static func refuseUnsupported(_ o: [String: Any], path: String) throws {
        func isSet(_ key: String) -> Bool {
            switch o[key] {
            case nil, is NSNull: return false
            case let b as Bool: return b
            case let d as [String: Any]: return !d.isEmpty
            case let a as [Any]: return !a.isEmpty
            default: return true
            }
        }
        let refusals: [(String, String)] = [
            ("use_dora", "DoRA (weight-decomposed LoRA) rescales each merged column by a learned magnitude"),
            ("modules_to_save", "the adapter replaces whole modules (modules_to_save), not low-rank deltas"),
            ("rank_pattern", "per-module ranks (rank_pattern)"),
            ("alpha_pattern", "per-module alphas (alpha_pattern)"),
            ("layers_to_transform", "layer selection (layers_to_transform)"),
            ("exclude_modules", "excluded modules (exclude_modules)"),
            ("layer_replication", "layer replication"),
            ("trainable_token_indices", "trainable token rows (trainable_token_indices)"),
            ("target_parameters", "LoRA on parameters (target_parameters)"),
            ("alora_invocation_tokens", "activated LoRA (alora_invocation_tokens)"),
            ("use_qalora", "QALoRA"),
            ("lora_bias", "a trained bias on lora_B (lora_bias)"),
        ]
        for (key, what) in refusals where isSet(key) {
            throw AdapterError.unsupported(path: path, feature: key, reason: "\(what) is not merged by this engine")
        }
        if let bias = o["bias"] as? String, bias != "none" {
            throw AdapterError.unsupported(path: path, feature: "bias \"\(bias)\"", reason: "T5 layers have no bias to train; use bias \"none\"")
        }
    }

    /// Whether the linear layer at module path `module` (e.g. "decoder.block.1.layer.0.SelfAttention.q") is
    /// targeted, as peft decides it: an exact name or a ".name" suffix for a list, a full match for a pattern;
    /// "all-linear" is every linear layer but the output head.
    func targets(_ module: String) -> Bool {
        switch targets {
        case .names(let names): return names.contains { module == $0 || module.hasSuffix("." + $0) }
        case .allLinear: return module != "lm_head"
        case .pattern(let p):
            guard let re = try? NSRegularExpression(pattern: "^(?:" + p + ")$") else { return false }
            return re.firstMatch(in: module, range: NSRange(module.startIndex..., in: module)) != nil
        }
    }
}

/// Every adapter's factors by weight name ("<module path>.weight"), checked against a model's config: what the
/// loader merges into the weights, and what `t5 convert --lora` merges before narrowing.
package struct LoRAMerge {
    let factors: [String: [LoRAFactors]]

    package init(adapters: [LoRAAdapter], config: T5Config) throws {
        let (gated, _) = try config.feedForward()
        var all: [String: [LoRAFactors]] = [:]
        for adapter in adapters {
            for (module, f) in try adapter.factors(for: T5Weights.linearShapes(config, gated: gated), tiedHead: config.tieWordEmbeddings) {
                all[module + ".weight", default: []].append(f)
            }
        }
        factors = all
    }

    package var isEmpty: Bool { factors.isEmpty }

    /// Whether weight `name` gets a delta.
    package func targets(_ name: String) -> Bool { factors[name] != nil }

    /// Adds the deltas for weight `name` (`[out, in]`, f32) in place.
    package func apply(to name: String, _ w: UnsafeMutablePointer<Float>, out: Int, in inFeatures: Int) {
        guard let f = factors[name] else { return }
        mergeLoRA(into: w, out: out, in: inFeatures, f)
    }
}

/// The low-rank factors of one adapter for one linear layer.
struct LoRAFactors {
    let a: FloatTensor   // [r, in]
    let b: FloatTensor   // [out, r]
    let scale: Float
}

extension LoRAAdapter {
    static let keyPrefix = "base_model.model."

    /// The factors for every targeted layer of `linears` (module path -> [out, in]), after checking that the file
    /// holds exactly those tensors with the right shapes.
    func factors(for linears: [String: (out: Int, in: Int)], tiedHead: Bool) throws -> [String: LoRAFactors] {
        let path = store.directory.appendingPathComponent("adapter_model.safetensors").path
        var result: [String: LoRAFactors] = [:]
        var used = Set<String>()
        for (module, shape) in linears.sorted(by: { $0.key < $1.key }) where targets(module) {
            if module == "lm_head" && tiedHead {
                throw AdapterError.unsupported(path: path, feature: "lm_head", reason: "this model ties lm_head to the embedding; a LoRA on it would change both")
            }
            let aName = Self.keyPrefix + module + ".lora_A.weight", bName = Self.keyPrefix + module + ".lora_B.weight"
            for name in [aName, bName] where !store.contains(name) { throw AdapterError.missingTensor(path: path, tensor: name) }
            func load(_ name: String, _ shape: [Int]) throws -> FloatTensor {
                guard let info = store.info(name), info.shape == shape else {
                    throw AdapterError.shapeMismatch(path: path, tensor: name, expected: shape, actual: store.info(name)?.shape ?? [])
                }
                let t = try store.floatTensor(name, shape: shape)
                if t.withUnsafeBufferPointer({ $0.contains { !$0.isFinite } }) {
                    throw AdapterError.unexpectedTensor(path: path, tensor: name, reason: "holds NaN or infinite values")
                }
                return t
            }
            result[module] = LoRAFactors(a: try load(aName, [rank, shape.in]), b: try load(bName, [shape.out, rank]), scale: mergeScale)
            used.formUnion([aName, bName])
        }
        if result.isEmpty { throw AdapterError.noTargets(path: path, targets: "\(targets)") }
        if let extra = store.tensorNames.first(where: { !used.contains($0) }) {
            let reason = extra.contains("lora_embedding")
                ? "a LoRA on an embedding; only linear layers are merged"
                : extra.hasSuffix(".lora_A.weight") || extra.hasSuffix(".lora_B.weight")
                    ? "its layer is not a linear layer of this model that target_modules names"
                    : "not a LoRA factor (full weights such as modules_to_save or saved embedding layers are not merged)"
            throw AdapterError.unexpectedTensor(path: path, tensor: extra, reason: reason)
        }
        return result
    }
}

/// `w[out, in] += Σ scale · B[out, r] · A[r, in]` over `factors`, in f32.
func mergeLoRA(into w: UnsafeMutablePointer<Float>, out: Int, in inFeatures: Int, _ factors: [LoRAFactors]) {
    for f in factors {
        let r = f.a.shape[0]
        f.a.withUnsafeBufferPointer { a in
            f.b.withUnsafeBufferPointer { b in
                for o in 0..<out {
                    let row = w + o * inFeatures
                    for k in 0..<r {
                        let c = f.scale * b[o * r + k]
                        if c == 0 { continue }
                        let ak = a.baseAddress! + k * inFeatures
                        for i in 0..<inFeatures { row[i] += c * ak[i] }
                    }
                }
            }
        }
    }
}
