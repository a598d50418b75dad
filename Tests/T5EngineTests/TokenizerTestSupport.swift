// Shared helpers for the tokenizer tests: where the reference data lives and cached tokenizers.
import Foundation
@testable import T5Engine

enum TokenizerFixtures {
    /// The repository root, from this file's location (`<repo>/Tests/T5EngineTests/`).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // T5EngineTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repo root

    /// The standard T5 vocabulary exists once per format in the repository; the tests read those copies.
    /// `tokenizer.json`: the tokenizer of the `text-tiny` test model.
    static var tokenizerJSON: URL {
        repoRoot.appendingPathComponent("Tests/T5EngineTests/Fixtures/models/text-tiny/tokenizer.json")
    }
    /// `spiece.model`: the library's bundled resource (what `T5Tokenizer.standard()` loads).
    static var sentencePieceModel: URL {
        repoRoot.appendingPathComponent("Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model")
    }
    /// The 280 reference tokenizations (`Fixtures/tokenizer/README.md`).
    static var cases: URL {
        repoRoot.appendingPathComponent("Tests/T5EngineTests/Fixtures/tokenizer/cases.jsonl")
    }

    static let fromJSON: Result<T5Tokenizer, TokenizerError> = Result { () throws(TokenizerError) in
        try T5Tokenizer(contentsOf: tokenizerJSON)
    }
    static let fromSentencePiece: Result<T5Tokenizer, TokenizerError> = Result { () throws(TokenizerError) in
        try T5Tokenizer(contentsOf: sentencePieceModel)
    }

    struct Case: Decodable, Sendable {
        var id: String
        var category: String
        var text: String
        var ids: [Int]
        var decoded: String
    }

    static func loadCases() throws -> [Case] {
        let data = try Data(contentsOf: cases)
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try JSONDecoder().decode(Case.self, from: Data($0))
        }
    }
}

extension String {
    /// Exact comparison by Unicode scalars (Swift's `==` uses canonical equivalence).
    var scalarArray: [UInt32] { unicodeScalars.map(\.value) }
}
