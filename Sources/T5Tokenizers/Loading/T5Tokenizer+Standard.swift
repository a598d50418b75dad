// The standard T5 vocabulary (cc_all.32000, as t5-*, t5-v1_1-* and flan-t5-* use) shipped as a
// resource of this module, for model folders without tokenizer files.
import Foundation

extension T5Tokenizer {
    /// Where `swift build` puts the resource bundle, beside the executable (or test runner).
    /// Looked up by hand: SwiftPM's generated `Bundle.module` calls `fatalError` when missing.
    static let resourceBundleName = "swift-t5_T5Tokenizers.resources"
    static let standardResource = "t5-tokenizer/spiece.model"

    static func standardVocabularyCandidates() -> [URL] {
        var candidates: [URL] = []
        let bundleDirectories = [Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent()]
        for directory in bundleDirectories.compactMap({ $0 }) {
            candidates.append(directory.appendingPathComponent(resourceBundleName).appendingPathComponent(standardResource))
        }
        // Running from a checkout (e.g. a test runner elsewhere): the resource in the source tree.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources").appendingPathComponent(standardResource))
        return candidates
    }

    /// Loaded once per process, then shared (the tokenizer is immutable and Sendable).
    private static let standardResult: Result<T5Tokenizer, TokenizerError> = {
        let candidates = standardVocabularyCandidates()
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            let tried = candidates.map(\.path).joined(separator: ", ")
            return .failure(.missingBundledVocabulary(reason: "\(standardResource) not found (tried \(tried)); "
                + "install \(resourceBundleName) beside the executable"))
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
