// The standard T5 vocabulary (cc_all.32000, as t5-*, t5-v1_1-* and flan-t5-* use) shipped as a
// resource of this module, for model folders without tokenizer files.
import Foundation

extension T5Tokenizer {
    /// Loaded once per process, then shared (the tokenizer is immutable and Sendable).
    private static let standardResult: Result<T5Tokenizer, TokenizerError> = {
        guard let url = Bundle.module.url(forResource: "spiece", withExtension: "model", subdirectory: "t5-tokenizer")
        else {
            return .failure(.missingBundledVocabulary(reason: "t5-tokenizer/spiece.model not in \(Bundle.module.bundlePath)"))
        }
        do throws(TokenizerError) {
            return .success(try T5Tokenizer(contentsOf: url))
        } catch {
            return .failure(error)
        }
    }()

    /// The standard T5 / Flan-T5 tokenizer: same ids as `google/flan-t5-*`'s T5TokenizerFast.
    public static func standard() throws(TokenizerError) -> T5Tokenizer {
        try standardResult.get()
    }
}
