// Added-token splitting on its own (leftmost-longest, lstrip/rstrip), then through the whole
// tokenizer. Expected ids are HF T5TokenizerFast output (tokenizers 0.22.2, this tokenizer.json).
import Foundation
import Testing
@testable import T5Tokenizers
@testable import T5Engine

@Suite struct TokenizerAddedTokensTests {
    func split(_ text: String, _ tokens: [AddedToken]) -> [AddedTokenSplit] {
        let matcher = AddedTokenMatcher(tokens: tokens, patterns: tokens.map { Array($0.content.utf8) })
        var splits: [AddedTokenSplit] = []
        Array(text.utf8).withUnsafeBufferPointer { matcher.split($0, into: &splits) }
        return splits
    }

    @Test func leftmostLongest() {
        let tokens = [AddedToken(content: "<x>", id: 10), AddedToken(content: "<x>>", id: 11), AddedToken(content: "x", id: 12)]
        #expect(split("a<x>>b", tokens) == [.text(0..<1), .token(11), .text(5..<6)])
        #expect(split("<x>", tokens) == [.token(10)])
        #expect(split("xx", tokens) == [.token(12), .token(12)])
        #expect(split("", tokens) == [])
        #expect(split("abc", tokens) == [.text(0..<3)])
    }

    @Test func stripAbsorbsWhiteSpaceOnItsSides() {
        let token = AddedToken(content: "<m>", id: 7, lstrip: true, rstrip: true)
        #expect(split("a \u{85}\t<m>\u{3000} b", [token]) == [.text(0..<1), .token(7), .text(12..<13)])
        // The left strip never reaches into a previous match.
        #expect(split("<m> <m>", [token]) == [.token(7), .token(7)])
        let plain = AddedToken(content: "<m>", id: 7)
        #expect(split("a <m> b", [plain]) == [.text(0..<2), .token(7), .text(5..<7)])
    }

    @Test(arguments: [
        ("<extra_id_1><extra_id_10>", [32098, 32089, 1]),
        ("<extra_id_100>", [3, 2, 25666, 834, 23, 26, 834, 2915, 3155, 1]),
        ("a<extra_id_0>b", [3, 9, 32099, 3, 115, 1]),
        ("  <extra_id_0>  x", [32099, 3, 226, 1]),
        ("x\u{85}<extra_id_0>\u{85}y", [3, 226, 32099, 3, 63, 1]),
        ("</s></s>", [1, 1, 1]),
        ("<pad>x", [0, 3, 226, 1]),
        ("<extra_id_0 >", [3, 2, 25666, 834, 23, 26, 834, 632, 2490, 1]),
        ("<<extra_id_0>>", [3, 2, 32099, 2490, 1]),
        ("\u{3000}<extra_id_1>\u{3000}z", [32098, 3, 172, 1]),
        ("<extra_id_9><extra_id_9>", [32090, 32090, 1]),
    ])
    func throughTheTokenizer(text: String, expected: [Int]) throws {
        #expect(try TokenizerFixtures.fromJSON.get().encode(text) == expected)
        #expect(try TokenizerFixtures.fromSentencePiece.get().encode(text) == expected)
    }

    @Test func userAddedTokensNormalizedAndNew() throws {
        // tokenizer.json with extra added tokens: two matched after normalization, two new ids
        // past the vocabulary. Expected ids and decodes are HF tokenizers 0.22.2 with this file.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.tokenizerJSON)) as! [String: Any]
        var added = json["added_tokens"] as! [[String: Any]]
        func token(_ id: Int, _ content: String, lstrip: Bool = false, rstrip: Bool = false, normalized: Bool, special: Bool) -> [String: Any] {
            ["id": id, "content": content, "single_word": false, "lstrip": lstrip, "rstrip": rstrip,
             "normalized": normalized, "special": special]
        }
        added += [
            token(32100, "ＸＹ", normalized: true, special: false),
            token(32101, "hello  world", lstrip: true, normalized: true, special: false),
            token(32102, "<sep>", rstrip: true, normalized: false, special: true),
            token(32103, "foo", normalized: false, special: false),
        ]
        json["added_tokens"] = added
        let t = try T5Tokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: json), source: "added.json")
        #expect(t.vocabularySize == 32104)
        let expected: [(String, [Int], String)] = [
            ("XY and ＸＹ", [32100, 11, 3, 32100, 1], "ＸＹ and ＸＹ"),
            ("say hello world!", [497, 21820, 296, 55, 1], "say hello world!"),
            ("say hello  world!", [497, 32101, 3, 55, 1], "sayhello  world !"),
            ("a<sep>  b", [3, 9, 32102, 3, 115, 1], "a b"),
            ("foofoo bar", [32103, 32103, 1207, 1], "foofoo bar"),
            ("ＸＹhello world", [32100, 21820, 296, 1], "ＸＹ hello world"),
            ("x <sep> XY", [3, 226, 32102, 32100, 1], "xＸＹ"),
            ("foo<sep>foo", [32103, 32102, 32103, 1], "foofoo"),
            ("ｈｅｌｌｏ world", [21820, 296, 1], "hello world"),
        ]
        for (text, ids, decoded) in expected {
            #expect(t.encode(text) == ids, "\(text)")
            #expect(t.decode(ids).scalarArray == decoded.scalarArray, "\(text)")
        }
    }

    @Test func extraIdStripOptionFromSentencePiece() throws {
        // The one visible difference of lstrip/rstrip on extra ids with this charsmap: U+0085,
        // which is White_Space but not mapped to a space. HF with lstrip/rstrip=false (what
        // transformers' conversion writes) gives the second list.
        let data = try Data(contentsOf: TokenizerFixtures.sentencePieceModel)
        let stripping = try T5Tokenizer(sentencePieceModel: data)
        let plain = try T5Tokenizer(sentencePieceModel: data, extraIdsStripWhitespace: false)
        #expect(stripping.encode("a\u{85}<extra_id_0>\u{85}b") == [3, 9, 32099, 3, 115, 1])
        #expect(plain.encode("a\u{85}<extra_id_0>\u{85}b") == [3, 9, 32099, 3, 2, 115, 1])
        #expect(plain.encode("a <extra_id_0> b") == stripping.encode("a <extra_id_0> b"))
    }
}
