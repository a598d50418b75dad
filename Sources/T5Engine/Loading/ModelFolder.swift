// A Hugging Face model folder, read once: the one place that knows which files a folder holds and what each means.
import Foundation

/// Everything a model folder provides: the model (`config.json` + `model.safetensors` or a sharded index), its
/// tokenizer (`tokenizer.json`, else `spiece.model`, else the standard T5 vocabulary), its decoding defaults
/// (`generation_config.json`) and, for few-shot chain-of-thought, its `exemplars.jsonl`.
/// The CLI and `T5Generator` both load folders through this type.
public struct ModelFolder: Sendable {
    public let directory: URL
    public let model: T5Model
    /// nil only when loaded with `tokenizer: false` (token ids in and out need none).
    public let tokenizer: T5Tokenizer?
    /// Where the tokenizer came from: a file of the folder, or nil for the standard T5 vocabulary (`standardVocabulary`
    /// when one was given, else the library's bundled copy).
    public let tokenizerFile: URL?
    /// `generation_config.json` applied to `GenerationOptions()`; the plain defaults when the folder has none.
    public let generationDefaults: GenerationOptions
    /// The folder's `exemplars.jsonl`, when it has one.
    public let exemplarsFile: URL?

    /// Reads the folder. Every file read is validated here, so a bad one is reported at load time, naming the file.
    /// `tokenizer: false` skips the tokenizer, for callers that work in token ids only.
    /// `standardVocabulary` is the `spiece.model` (or `tokenizer.json`) used when the folder has no tokenizer files; nil
    /// uses `T5Tokenizer.standard()`, the copy bundled with the T5Tokenizers module. The library looks in no
    /// environment variable: a program that installs the vocabulary elsewhere (as the `t5` command does) passes it here.
    /// `adapters` (LoRA, see `LoRAAdapter`) are merged into the model's weights at load, in order. `kvCache` and
    /// `int8Activations`: as `T5Model.init`.
    public init(directory: URL, memoryLimitBytes: Int = 8 << 30, runtime: T5Runtime = .shared, tokenizer loadTokenizer: Bool = true,
                standardVocabulary: URL? = nil, adapters: [LoRAAdapter] = [], kvCache: KVCacheFormat = .f32,
                int8Activations: Bool = false) throws {
        self.directory = directory
        model = try T5Model(directory: directory, memoryLimitBytes: memoryLimitBytes, runtime: runtime, adapters: adapters,
                            kvCache: kvCache, int8Activations: int8Activations)
        tokenizerFile = Self.tokenizerFile(in: directory)
        if loadTokenizer {
            let source = tokenizerFile ?? standardVocabulary
            let tokenizer = try source.map { try T5Tokenizer(contentsOf: $0) } ?? T5Tokenizer.standard()
            // A tokenizer whose ids do not fit the model would read outside the embedding table.
            guard tokenizer.vocabularySize <= model.config.vocabSize else {
                throw ConfigError.tokenizerMismatch(path: (source ?? directory).path,
                                                    tokenizerIds: tokenizer.vocabularySize, vocabSize: model.config.vocabSize)
            }
            self.tokenizer = tokenizer
        } else {
            tokenizer = nil
        }
        generationDefaults = try GenerationConfigFile.load(directory: directory)?.apply() ?? GenerationOptions()
        let exemplars = directory.appendingPathComponent("exemplars.jsonl")
        exemplarsFile = FileManager.default.fileExists(atPath: exemplars.path) ? exemplars : nil
    }

    /// The folder's tokenizer file: `tokenizer.json` (what `T5TokenizerFast` reads) before `spiece.model`.
    public static func tokenizerFile(in directory: URL) -> URL? {
        ["tokenizer.json", "spiece.model"].lazy
            .map { directory.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }
}
