// The proof: all 280 reference tokenizations (HF T5TokenizerFast) reproduce exactly, loading
// from tokenizer.json and, separately, from spiece.model.
import Foundation
import Testing
@testable import T5Engine

@Suite struct TokenizerReferenceCasesTests {
    @Test(arguments: ["tokenizer.json", "spiece.model"])
    func allCasesMatch(loader: String) throws {
        let tokenizer = try (loader == "tokenizer.json" ? TokenizerFixtures.fromJSON : TokenizerFixtures.fromSentencePiece).get()
        let cases = try TokenizerFixtures.loadCases()
        #expect(cases.count == 280)
        var idMatches = 0
        var decodeMatches = 0
        for c in cases {
            let ids = tokenizer.encode(c.text)
            let decoded = tokenizer.decode(c.ids)
            if ids == c.ids { idMatches += 1 }
            if decoded.scalarArray == c.decoded.scalarArray { decodeMatches += 1 }
            #expect(ids == c.ids, "\(c.id) ids: \(c.text.debugDescription)")
            #expect(decoded.scalarArray == c.decoded.scalarArray, "\(c.id) decoded: \(decoded.debugDescription) vs \(c.decoded.debugDescription)")
        }
        #expect(idMatches == 280)
        #expect(decodeMatches == 280)
    }
}
