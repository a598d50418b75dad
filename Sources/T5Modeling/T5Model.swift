// A loaded T5 model: config plus validated weights, immutable and shared by any number of concurrent callers.
import Foundation
import T5Kernels
import T5SafeTensors

/// Load once, then call from as many tasks as you like: the model holds no mutable state;
/// every generation builds its own run state.
public final class T5Model: Sendable {
    public let config: T5Config
    let weights: T5Weights
    let activation: T5Activation
    let isGated: Bool
    /// Working memory one request may allocate (KV caches and scratch); larger requests are refused up front.
    public let memoryLimitBytes: Int
    /// The threads this model's kernels run on.
    public let runtime: T5Runtime
    /// How encoded prompts store cross-attention keys and values, and decoding sessions self-attention ones unless
    /// they ask otherwise.
    public let kvCache: KVCacheFormat
    /// Whether int8 weight matrices multiply int8-quantised activations (W8A8) instead of f32 ones.
    public let int8Activations: Bool

    /// Loads a Hugging Face model folder: `config.json` and `model.safetensors` (or a sharded index), with LoRA
    /// `adapters` merged into its weights in order.
    /// `int8Activations` (int8 checkpoints only, see `t5 convert`): each input row of an int8 matrix is quantised to int8
    /// with one scale and multiplied in integers (W8A8, as CTranslate2's int8 does). Faster batched decode and encoder
    /// on CPUs with AVX-512 VNNI; not exact to f32 activations, so off by default (PERFORMANCE.md, "W8A8 with VNNI").
    /// Matrices wider than 65,536 inputs (no T5 has them) keep f32 activations.
    public convenience init(directory: URL, memoryLimitBytes: Int = 8 << 30, runtime: T5Runtime = .shared,
                            adapters: [LoRAAdapter] = [], kvCache: KVCacheFormat = .f32, int8Activations: Bool = false) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw ConfigError.noSuchModelFolder(path: directory.path)
        }
        guard isDirectory.boolValue else { throw ConfigError.notAModelFolder(path: directory.path) }
        let config = try T5Config.load(from: directory)
        let store = try WeightStore(directory: directory)
        try self.init(config: config, store: store, memoryLimitBytes: memoryLimitBytes, runtime: runtime, adapters: adapters,
                      kvCache: kvCache, int8Activations: int8Activations)
    }

    public init(config: T5Config, store: WeightStore, memoryLimitBytes: Int = 8 << 30, runtime: T5Runtime = .shared,
                adapters: [LoRAAdapter] = [], kvCache: KVCacheFormat = .f32, int8Activations: Bool = false) throws {
        try config.validate()
        self.config = config
        (isGated, activation) = try config.feedForward()
        weights = try T5Weights(store: store, config: config, adapters: adapters, int8Activations: int8Activations)
        self.int8Activations = int8Activations
        self.memoryLimitBytes = memoryLimitBytes
        self.runtime = runtime
        self.kvCache = kvCache
        if int8Activations, !linearWeights.contains(where: \.usesInt8Activations) {
            throw WeightsError.int8ActivationsNeedInt8Weights(directory: store.directory.path)
        }
    }

    /// Checks prompts before anything is allocated for them.
    package func validate(prompts: [[Int]]) throws {
        guard !prompts.isEmpty else { throw RequestError.emptyBatch }
        for (row, prompt) in prompts.enumerated() {
            guard !prompt.isEmpty else { throw RequestError.emptyPrompt(row: row) }
            for (position, id) in prompt.enumerated() where id < 0 || id >= config.vocabSize {
                throw RequestError.tokenOutOfRange(row: row, position: position, id: id, vocabularySize: config.vocabSize)
            }
        }
    }

    /// Refuses a request whose working memory would exceed `memoryLimitBytes`, before anything is allocated.
    func requireMemory(_ bytes: Double, for what: String) throws {
        guard bytes <= Double(memoryLimitBytes) else {
            throw RequestError.tooLarge(bytes: bytes >= Double(Int.max) ? Int.max : Int(bytes),
                                           limit: memoryLimitBytes, what: what)
        }
    }
}
