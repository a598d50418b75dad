// Bad input of every kind gives a typed error or a correct result, never a crash: invalid UTF-8,
// NUL, a 1 MB line, whitespace only, and corrupt or truncated tokenizer files.
import Foundation
import Testing
@testable import T5Engine

@Suite struct TokenizerBadInputTests {
    var t5: T5Tokenizer { get throws { try TokenizerFixtures.fromJSON.get() } }

    @Test func invalidUTF8BytesAreRejected() throws {
        let t = try t5
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 2)) { try t.encode(utf8: [0x48, 0x69, 0xFF, 0x21]) }
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 1)) { try t.encode(utf8: [0x61, 0xE2, 0x96]) }  // cut ▁
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 0)) { try t.encode(utf8: [0xED, 0xA0, 0x80]) }  // surrogate
        #expect(throws: TokenizerError.invalidUTF8(byteOffset: 0)) { try t.encode(utf8: [0xC0, 0xAF]) }  // overlong
        #expect(try t.encode(utf8: Array("Hello world".utf8)) == t.encode("Hello world"))
        #expect(try t.encode(utf8: Data("Größe".utf8)) == t.encode("Größe"))
        // Replacing instead of rejecting is one call away; nmt_nfkc then deletes U+FFFD (as HF).
        #expect(t.encode(String(decoding: [0x61, 0xFF], as: UTF8.self)) == [3, 9, 1])
    }

    @Test func nulAndWhitespaceOnly() throws {
        let t = try t5
        #expect(t.encode("a\0b") == [3, 9, 2, 115, 1])
        #expect(t.encode("\0") == [3, 2, 1])
        #expect(t.encode(" \t\n ") == [1])
        #expect(t.encode("") == [1])
        #expect(t.encode("", addEOS: false) == [])
        #expect(t.encode(String(repeating: " \u{3000}\u{A0}\r\n", count: 1000)) == [1])
    }

    @Test func oneMegabyteLines() throws {
        let t = try t5
        let sentence = "The house is wonderful. "
        let short = t.encode(sentence, addEOS: false)
        let repeats = 1_000_000 / sentence.utf8.count + 1
        let long = t.encode(String(repeating: sentence, count: repeats))
        #expect(long.count == short.count * repeats + 1)
        #expect(Array(long.prefix(short.count * 3)) == short + short + short)
        // One 1 MB piece with no spaces: a single Viterbi lattice over a million bytes.
        let noSpaces = t.encode(String(repeating: "ab", count: 500_000))
        #expect(noSpaces.last == 1 && noSpaces.count > 1000)
        let unknown = t.encode(String(repeating: "Æ", count: 500_000))
        #expect(unknown == [3, 2, 1], "one fused <unk> for the whole run")
    }

    func load(json: String) throws(TokenizerError) -> T5Tokenizer {
        try T5Tokenizer(tokenizerJSON: Data(json.utf8), source: "bad.json")
    }

    @Test func corruptTokenizerJSON() throws {
        func reason(_ json: String) -> TokenizerError? {
            do { _ = try load(json: json); return nil } catch { return error }
        }
        guard case .malformedTokenizerJSON = reason("not json {") else { Issue.record("not JSON"); return }
        guard case .malformedTokenizerJSON = reason("{}") else { Issue.record("no model"); return }
        guard case .malformedTokenizerJSON = reason(#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", "x"]]}}"#)
        else { Issue.record("bad score"); return }
        #expect(reason(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#)
            == .unsupportedComponent(path: "bad.json", component: "model", detail: "BPE"))
        #expect(reason(#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": []}}"#) == .emptyVocabulary(path: "bad.json"))
        #expect(reason(#"{"model": {"type": "Unigram", "unk_id": 3, "vocab": [["<unk>", 0]]}}"#)
            == .invalidUnknownTokenId(path: "bad.json", id: 3, vocabularySize: 1))
        #expect(reason(#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0]]}}"#)
            == .missingSpecialToken(path: "bad.json", token: "</s>"))
        let base = #""model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["</s>", 0], ["<pad>", 0]]}"#
        #expect(reason("{\(base), \"normalizer\": {\"type\": \"NFKC\"}}")
            == .unsupportedComponent(path: "bad.json", component: "normalizer", detail: "NFKC"))
        #expect(reason("{\(base), \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}")
            == .unsupportedComponent(path: "bad.json", component: "pre-tokenizer", detail: "ByteLevel"))
        #expect(reason("{\(base), \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"\\\\s+\"}, \"content\": \" \"}}")
            == .unsupportedComponent(path: "bad.json", component: "Replace pattern", detail: "\\s+"))
        guard case .malformedCharsMap = reason("{\(base), \"normalizer\": {\"type\": \"Precompiled\", \"precompiled_charsmap\": \"AAAA\"}}")
        else { Issue.record("empty charsmap"); return }
        // No normalizer, pre-tokenizer or post-processor: the raw text is one piece, no </s>.
        #expect(try load(json: "{\(base)}").encode("x") == [0])
    }

    @Test func charsMapOffsetsOutsideTheBlob() throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.tokenizerJSON)) as! [String: Any]
        var normalizer = json["normalizer"] as! [String: Any]
        var steps = normalizer["normalizers"] as! [[String: Any]]
        var blob = Array(Data(base64Encoded: steps[0]["precompiled_charsmap"] as! String)!)
        blob[4 + 3] = 0x40  // root unit: offset far past the 44288 units
        steps[0]["precompiled_charsmap"] = Data(blob).base64EncodedString()
        normalizer["normalizers"] = steps
        json["normalizer"] = normalizer
        let data = try JSONSerialization.data(withJSONObject: json)
        #expect {
            try T5Tokenizer(tokenizerJSON: data, source: "bad.json")
        } throws: { error in
            guard case .malformedCharsMap(let path, let reason) = error as? TokenizerError else { return false }
            return path == "bad.json" && reason.contains("outside")
        }
    }

    @Test func truncatedOrGarbageSentencePieceModels() throws {
        let bytes = try Data(contentsOf: TokenizerFixtures.sentencePieceModel)
        var lengths = Array(stride(from: 0, to: bytes.count, by: 7919)) + [1, 2, 13, 16, bytes.count - 1]
        lengths += [553_302, 553_304, 554_093, 554_097, 554_100]  // around trainer/normalizer spec
        for length in lengths {
            #expect(throws: TokenizerError.self, "cut at \(length)") {
                try T5Tokenizer(sentencePieceModel: bytes.prefix(length), source: "cut.model")
            }
        }
        var garbage = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let junk = Data((0..<Int.random(in: 0..<4096, using: &garbage)).map { _ in UInt8.random(in: 0...255, using: &garbage) })
            #expect(throws: TokenizerError.self) { try T5Tokenizer(sentencePieceModel: junk, source: "junk.model") }
        }
        var flipped = Array(bytes)
        flipped[553_304 - 1] ^= 0x7F  // trainer_spec length now wrong
        #expect(throws: TokenizerError.self) { try T5Tokenizer(sentencePieceModel: Data(flipped), source: "flip.model") }
    }

    @Test func missingOrUnreadableFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: TokenizerError.fileNotFound(path: dir.path)) { try T5Tokenizer(contentsOf: dir) }
        let missing = dir.appendingPathComponent("nope.json")
        #expect(throws: TokenizerError.fileNotFound(path: missing.path)) { try T5Tokenizer(contentsOf: missing) }
        let empty = dir.appendingPathComponent("tokenizer.json")
        try Data().write(to: empty)
        #expect(throws: TokenizerError.self) { try T5Tokenizer(contentsOf: empty) }
        #expect(throws: TokenizerError.self) { try T5Tokenizer(contentsOf: dir) }
    }
}
