// Why a LoRA adapter folder was refused: every case names the file and what does not fit.

public enum AdapterError: Error, Equatable, CustomStringConvertible {
    case notAFolder(path: String)
    case missingFile(path: String)
    case badConfig(path: String, reason: String)
    /// A PEFT feature this engine does not merge (DoRA, modules_to_save, rank_pattern, ...), named as in adapter_config.json.
    case unsupported(path: String, feature: String, reason: String)
    /// A tensor of the adapter file that maps to no linear layer the config targets.
    case unexpectedTensor(path: String, tensor: String, reason: String)
    /// A targeted layer whose lora_A or lora_B is not in the file.
    case missingTensor(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    case noTargets(path: String, targets: String)
    case badScale(value: Float)

    public var description: String {
        switch self {
        case .notAFolder(let path): return "\(path): not a LoRA adapter folder (expected adapter_config.json and adapter_model.safetensors)"
        case .missingFile(let path): return "\(path): missing (a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors)"
        case .badConfig(let path, let reason): return "\(path): \(reason)"
        case .unsupported(let path, let feature, let reason): return "\(path): \(feature) is not supported: \(reason)"
        case .unexpectedTensor(let path, let tensor, let reason): return "\(path): tensor \(tensor): \(reason)"
        case .missingTensor(let path, let tensor): return "\(path): tensor \(tensor) is missing"
        case .shapeMismatch(let path, let tensor, let expected, let actual):
            return "\(path): tensor \(tensor) has shape \(actual), expected \(expected) (does the adapter belong to this base model and rank?)"
        case .noTargets(let path, let targets): return "\(path): target_modules \(targets) match no linear layer of this model"
        case .badScale(let value): return "LoRA scale \(value): must be a finite number"
        }
    }
}
