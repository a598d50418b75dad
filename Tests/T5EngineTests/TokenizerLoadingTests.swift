// Loading: the bundled standard vocabulary, model directories, the two file formats agreeing,
// and older tokenizer.json pipelines honoured as HF would (expected ids from tokenizers 0.22.2).
import Foundation
import Testing
@testable import T5Engine

@Suite struct TokenizerLoadingTests {
    @Test func standardVocabulary() throws {
        let t = try T5Tokenizer.standard()
        #expect(t.vocabularySize == 32100)
        #expect((t.eosTokenId, t.padTokenId, t.unkTokenId) == (1, 0, 2))
        #expect(t.encode("translate English to German: The house is wonderful.") == [13959, 1566, 12, 2968, 10, 37, 629, 19, 1627, 5, 1])
        #expect(t.encode("Studies have been shown that owning a dog is good for you")
            == [6536, 43, 118, 2008, 24, 293, 53, 3, 9, 1782, 19, 207, 21, 25, 1])
        #expect(try T5Tokenizer.standard() === t, "loaded once")
        #expect(t.id(for: "<extra_id_0>") == 32099)
        #expect(t.id(for: "▁house") == 629)
        #expect(t.id(for: "</s>") == 1)
        #expect(t.id(for: "no such piece") == nil)
        #expect(t.id(for: "e\u{301}") == nil, "no canonical-equivalence lookups: é is a piece, e + U+0301 is not")
        #expect(t.id(for: "é") != nil)
    }

    @Test func modelDirectoryPrefersTokenizerJSON() throws {
        // A model folder holding only tokenizer.json (the text-tiny test model).
        let textTiny = TokenizerFixtures.tokenizerJSON.deletingLastPathComponent()
        #expect(try T5Tokenizer(contentsOf: textTiny).encode("Hello <extra_id_0> world") == [8774, 32099, 296, 1])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Only spiece.model.
        try FileManager.default.copyItem(at: TokenizerFixtures.sentencePieceModel, to: dir.appendingPathComponent("spiece.model"))
        let spieceOnly = try T5Tokenizer(contentsOf: dir)
        #expect(spieceOnly.encode("Hello") == [8774, 1])
        #expect(spieceOnly.encode("   space   ") == [628, 1])
        // Both: tokenizer.json wins. The standard tokenizer.json gives the same ids as spiece.model, so this one
        // is rewritten with the older flan-t5 converter's pipeline, whose ids spiece.model cannot give.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.tokenizerJSON)) as! [String: Any]
        Self.useOlderFlanPipeline(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect(try T5Tokenizer(contentsOf: dir).encode("   space   ") == [628, 3, 1])
        // A spiece.model under another name is recognised by content, not extension.
        let renamed = dir.appendingPathComponent("vocab.bin")
        try FileManager.default.copyItem(at: TokenizerFixtures.sentencePieceModel, to: renamed)
        #expect(try T5Tokenizer(contentsOf: renamed).vocabularySize == 32100)
    }

    @Test func bothFormatsHaveTheSameTables() throws {
        let a = try TokenizerFixtures.fromJSON.get()
        let b = try TokenizerFixtures.fromSentencePiece.get()
        #expect(a.vocabularySize == b.vocabularySize)
        for id in 0..<a.vocabularySize {
            #expect(a.piece(for: id) == b.piece(for: id))
            #expect(a.isSpecialToken(id) == b.isSpecialToken(id))
        }
    }

    /// The shipped tokenizer.json rewritten with another pipeline.
    func variant(_ edit: (inout [String: Any]) -> Void) throws -> T5Tokenizer {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.tokenizerJSON)) as! [String: Any]
        edit(&json)
        return try T5Tokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: json), source: "variant.json")
    }

    static func precompiled(_ json: [String: Any]) -> [String: Any] {
        ((json["normalizer"] as! [String: Any])["normalizers"] as! [[String: Any]])[0]
    }
    static var legacyMetaspace: [String: Any] { ["type": "Metaspace", "replacement": "▁", "add_prefix_space": true] }

    /// Hub flan-t5 / t5-v1_1 files: Precompiled + Replace(" {2,}", " "), no strip.
    static func useOlderFlanPipeline(_ json: inout [String: Any]) {
        json["normalizer"] = ["type": "Sequence", "normalizers": [
            precompiled(json), ["type": "Replace", "pattern": ["Regex": " {2,}"], "content": " "]]]
        json["pre_tokenizer"] = legacyMetaspace
        json["decoder"] = legacyMetaspace
    }

    @Test func olderConverterPipelines() throws {
        let flan = try variant(Self.useOlderFlanPipeline)
        // Original t5-small / t5-base files: WhitespaceSplit then Metaspace.
        let small = try variant { json in
            json["normalizer"] = Self.precompiled(json)
            json["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "WhitespaceSplit"], Self.legacyMetaspace]]
            json["decoder"] = Self.legacyMetaspace
        }
        let expected: [(String, [Int], [Int])] = [
            ("   space   ", [628, 3, 1], [628, 1]),
            ("Hello </s>", [8774, 3, 1, 1], [8774, 1, 1]),
            ("a\u{85}b c", [3, 9, 2, 115, 3, 75, 1], [3, 9, 3, 115, 3, 75, 1]),
            ("two  spaces", [192, 4856, 1], [192, 4856, 1]),
            ("x  </s>  y", [3, 226, 3, 1, 3, 63, 1], [3, 226, 1, 3, 63, 1]),
        ]
        for (text, flanIds, smallIds) in expected {
            #expect(flan.encode(text) == flanIds, "\(text.debugDescription)")
            #expect(small.encode(text) == smallIds, "\(text.debugDescription)")
        }
    }

    @Test func singleWordAddedTokensAreRefused() throws {
        #expect(throws: TokenizerError.self) {
            try variant { json in
                var tokens = json["added_tokens"] as! [[String: Any]]
                tokens[0]["single_word"] = true
                json["added_tokens"] = tokens
            }
        }
    }
}
