// Options shared by every subcommand that loads a model: where it is, and how many threads to use.
import ArgumentParser
import Foundation
import T5Engine

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face T5 model folder (config.json + model.safetensors). Default: the demo model (installed beside t5, in $T5_DATA_DIR, or Models/demo-t5 of a checkout; README, \"Install\").",
            completion: .directory)
    var model: String?

    // `.unconditional` so that `--threads -1` reaches validate() (and its range message) instead of being
    // read as an option name, which reports a missing value.
    @Option(name: .long, parsing: .unconditional,
            help: "Threads for every matrix product: the engine's decode kernels and OpenBLAS (the encoder), 1 to 1024. Default: one per core.",
            transform: ModelOptions.parseThreads)
    var threads: Int?

    @Option(name: .long, help: "A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) merged into the weights at load (repeatable; merged in order).",
            completion: .directory)
    var lora: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue,
            help: "Multiplier of the LoRA delta (1 = as trained): one for every --lora, or one per --lora in order.")
    var loraScale: [Float] = []

    @Option(name: .long, help: "Working memory one request may use (KV caches and scratch, weights excluded), e.g. 512MiB, 2GiB, 3GB or bytes. A request that could outgrow it is refused before it starts. Default: 8GiB.",
            transform: ByteSize.parse)
    var memoryBudget: Int?

    @Option(name: .long, help: "How decoding stores self-attention keys and values: f32 (exact), f16 or int8 (one scale per position and head); compute stays f32.")
    var kvCache: KVCacheFormat = .f32

    @Flag(name: .long, help: "int8 models only: quantise each input row of an int8 matrix to int8 (one scale per row) and multiply in integers (W8A8, as CTranslate2's int8). Faster batched decode and encoder on CPUs with AVX-512 VNNI; not exact to f32 activations.")
    var int8Activations = false

    static let threadRange = 1...1024

    static func parseThreads(_ text: String) throws -> Int {
        guard let n = Int(text) else { throw ValidationError("a whole number between \(threadRange.lowerBound) and \(threadRange.upperBound) is expected") }
        return n
    }

    func validate() throws {
        if let threads, !Self.threadRange.contains(threads) {
            throw ValidationError("--threads must be between \(Self.threadRange.lowerBound) and \(Self.threadRange.upperBound), got \(threads)")
        }
        if !loraScale.isEmpty {
            guard !lora.isEmpty else { throw ValidationError("--lora-scale needs --lora DIR") }
            guard loraScale.count == 1 || loraScale.count == lora.count else {
                throw ValidationError("--lora-scale: give one scale for every --lora or one per --lora (\(lora.count)), got \(loraScale.count)")
            }
            if let bad = loraScale.first(where: { !$0.isFinite }) { throw ValidationError("--lora-scale \(bad): must be a finite number") }
        }
    }

    /// The --lora adapters with their scales, read and checked (merging happens when the model loads).
    func adapters() throws -> [LoRAAdapter] {
        try lora.enumerated().map { i, path in
            let scale = loraScale.isEmpty ? 1 : loraScale[loraScale.count == 1 ? 0 : i]
            return try LoRAAdapter(directory: URL(fileURLWithPath: path), scale: scale)
        }
    }

    /// The folder to load: `--model`, else the demo model, found by the rule in InstalledResources.swift.
    func directory() throws -> URL {
        if let model { return URL(fileURLWithPath: model) }
        return try InstalledResources.demoModel()
    }

    /// The runtime `--threads` asks for; OpenBLAS (process-wide) gets the same count.
    func runtime() -> T5Runtime {
        guard let threads else { return .shared }
        T5Runtime.setBLASThreads(threads)
        return T5Runtime(threads: threads)
    }

    /// The model folder, read once: model, tokenizer (unless `tokenizer` is false), generation defaults, exemplars.
    func loadFolder(tokenizer: Bool = true) throws -> ModelFolder {
        let directory = try directory(), runtime = runtime()
        // The standard vocabulary is looked up (by the CLI's rule) only for a model folder without tokenizer files.
        var vocabulary: URL?
        if tokenizer, ModelFolder.tokenizerFile(in: directory) == nil {
            do {
                vocabulary = try InstalledResources.standardVocabulary()
            } catch {
                // A broken or missing model folder is the error to report first; the model is memory-mapped, so
                // reading it just for that is cheap.
                _ = try ModelFolder(directory: directory, runtime: runtime, tokenizer: false, adapters: adapters())
                throw error
            }
        }
        return try ModelFolder(directory: directory, memoryLimitBytes: memoryLimitBytes, runtime: runtime, tokenizer: tokenizer,
                               standardVocabulary: vocabulary, adapters: adapters(), kvCache: kvCache,
                               int8Activations: int8Activations)
    }

    func loadModel() throws -> T5Model {
        try T5Model(directory: directory(), memoryLimitBytes: memoryLimitBytes, runtime: runtime(), adapters: adapters(), kvCache: kvCache,
                    int8Activations: int8Activations)
    }

    /// `--memory-budget`, or the library's default.
    var memoryLimitBytes: Int { memoryBudget ?? 8 << 30 }
}
