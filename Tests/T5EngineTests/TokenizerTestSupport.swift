// Shared helpers for the tokenizer tests: where the reference data lives and cached tokenizers.
import Foundation
@testable import T5Engine

enum TokenizerFixtures {
    /// `<repo>/../shared/tokenizers/t5/`: beside the clone in CI, beside the worktree here.
    static let sharedDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // T5EngineTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repo root
        .deletingLastPathComponent()  // its parent
        .appendingPathComponent("shared/tokenizers/t5")

    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var tokenizerJSON: URL { sharedDirectory.appendingPathComponent("tokenizer.json") }
    static var sentencePieceModel: URL { sharedDirectory.appendingPathComponent("spiece.model") }
    static var cases: URL { sharedDirectory.appendingPathComponent("cases.jsonl") }

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
