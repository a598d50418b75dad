// Decoding on its own: the Metaspace decoder, special-token skipping, ids HF cannot map, and
// incremental decoding for streaming. Expected strings are HF tokenizers 0.22.2 output.
import Foundation
import Testing
@testable import T5Tokenizers
@testable import T5Engine

@Suite struct TokenizerDecoderTests {
    func decode(_ tokens: [String], _ decoder: TokenDecoder) -> String {
        var out: [UInt8] = []
        for (k, t) in tokens.enumerated() { decoder.append(t, position: k, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func metaspaceDecoder() {
        let d = TokenDecoder.metaspace(replacement: metaspaceUTF8, dropInFirstToken: true)
        // Every ▁ of the first token is dropped, not only the first (HF's decode_chain).
        #expect(decode(["▁▁a", "▁b", "▁▁c"], d) == "a b  c")
        #expect(decode(["▁", "x▁"], d) == "x ")
        let never = TokenDecoder.metaspace(replacement: metaspaceUTF8, dropInFirstToken: false)
        #expect(decode(["▁a", "▁b"], never) == " a b")
        #expect(decode(["a", "b"], .joinWithSpaces) == "a b")
    }

    @Test func t5Decode() throws {
        let t = try TokenizerFixtures.fromJSON.get()
        #expect(t.decode([3, 2, 3, 9, 1]) == " a", "a skipped <unk> leaves the next ▁ as a space")
        #expect(t.decode([0, 3, 9, 1], skipSpecialTokens: false) == "<pad> a</s>")
        #expect(t.decode([32100, 32127, 37, 629, -1, 1 << 40]) == "The house", "ids HF cannot map are dropped")
        #expect(t.decode([32099, 37, 32000]) == "The")
        #expect(t.decode([32099, 37], skipSpecialTokens: false) == "<extra_id_0> The")
        #expect(t.decode([]) == "")
        #expect(t.piece(for: 32099) == "<extra_id_0>")
        #expect(t.piece(for: 32000) == "<extra_id_99>")
        #expect(t.piece(for: 32100) == nil)
        #expect(t.isSpecialToken(2) && t.isSpecialToken(32050) && !t.isSpecialToken(3))
    }

    @Test func streamingDecodeAddsUpToTheFullDecode() throws {
        let t = try TokenizerFixtures.fromJSON.get()
        for c in try TokenizerFixtures.loadCases().prefix(60) {
            for skip in [true, false] {
                let full = t.decode(c.ids, skipSpecialTokens: skip).scalarArray
                var text: [UInt32] = []
                for k in 0..<c.ids.count {
                    text += t.decode(Array(c.ids[...k]), from: k, skipSpecialTokens: skip).scalarArray
                    #expect(text == t.decode(Array(c.ids[...k]), skipSpecialTokens: skip).scalarArray)
                }
                #expect(text == full, "\(c.id)")
            }
        }
    }
}
