// Loading a generator from a Hugging Face model folder: model, tokenizer and generation defaults.
import Foundation

extension T5Tokenizer: TextTokenizer {
    public func encodeWithEOS(_ text: String) throws -> [Int] { encode(text, addEOS: true) }
    public func decodeSkippingSpecial(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: true) }
}

extension T5Generator {
    /// Loads `config.json` + weights, the folder's `tokenizer.json` or `spiece.model` (the standard T5
    /// vocabulary when it has neither), and `generation_config.json` defaults.
    public convenience init(directory: URL, memoryLimitBytes: Int = 8 << 30) throws {
        let model = try T5Model(directory: directory, memoryLimitBytes: memoryLimitBytes)
        let fm = FileManager.default
        let hasTokenizer = ["tokenizer.json", "spiece.model"].contains {
            fm.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
        let tokenizer = hasTokenizer ? try T5Tokenizer(contentsOf: directory) : try T5Tokenizer.standard()
        // A tokenizer whose ids do not fit the model would read outside the embedding table.
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw GenerationError.invalidOption(
                name: "tokenizer", value: "\(tokenizer.vocabularySize) ids",
                reason: "more ids than the model's vocab_size \(model.config.vocabSize)")
        }
        let defaults = try GenerationConfigFile.load(directory: directory)?.apply() ?? GenerationOptions()
        self.init(model: model, tokenizer: tokenizer, defaultOptions: defaults)
    }
}
