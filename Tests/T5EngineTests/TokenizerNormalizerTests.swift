// Normalization on its own: the charsmap per grapheme cluster (HF's rule, not sentencepiece's),
// then Strip and the " {2,}" → ▁ replacement. Expected strings are HF tokenizers 0.22.2 output.
import Foundation
import Testing
@testable import T5Tokenizers
@testable import T5Engine

func normalize(_ text: String, _ steps: [NormalizerStep]) -> String {
    var scratch = TokenizerPipeline.Scratch()
    let out = Array(text.utf8).withUnsafeBufferPointer { TokenizerPipeline.normalize($0, steps: steps, scratch: &scratch) }
    return String(decoding: out, as: UTF8.self)
}

@Suite struct TokenizerNormalizerTests {
    @Test(arguments: [
        ("e\u{301}", "é"),                        // a cluster that is a key: composed
        ("Ａ\u{301}", "A"),                        // 5-byte cluster, prefix key: accent dropped (HF)
        ("Ａ\u{301}\u{301}", "A\u{301}\u{301}"),   // 7 bytes: per scalar, marks kept
        ("\r\n", " "),                            // CR LF is one cluster: "\r"'s replacement only
        ("a\r\nb", "a b"),
        ("a\u{1}b", "ab"),                        // control characters removed
        ("①", "1"), ("ﬁ", "fi"), ("㍿", "株式会社"),
        // Halfwidth KA + voiced mark: one 6-byte cluster, so per scalar and not composed.
        ("ｶﾞ", "カ\u{3099}"), ("ｶ\u{3099}", "カ\u{3099}"),
        ("\0", "\0"),                             // NUL is never a key in HF
        ("\u{600}a", "\u{600}a"),                 // Prepend + letter: one cluster, no key
        ("👍🏽", "👍🏽"),
        ("a\u{85}b", "a\u{85}b"),
        ("x\u{200B}y", "x y"),
        ("plain ASCII text.", "plain ASCII text."),
    ])
    func precompiledPerCluster(input: String, expected: String) throws {
        let map = try realCharsMap()
        #expect(normalize(input, [.precompiled(map)]).scalarArray == expected.scalarArray)
    }

    @Test(arguments: [
        ("  a   b  ", "▁a▁b"),
        ("\tleading tab", " leading tab"),
        ("a  b", "a▁b"),
        ("   ", ""),
        ("\u{A0}", ""),
        ("\r\n", ""),
    ])
    func fullT5Normalizer(input: String, expected: String) throws {
        let definition = try TokenizerJSONLoader.load(Data(contentsOf: TokenizerFixtures.tokenizerJSON), source: "t")
        #expect(definition.normalizer.count == 3)
        #expect(normalize(input, definition.normalizer).scalarArray == expected.scalarArray)
    }

    @Test func stripAndReplaceSteps() {
        #expect(normalize(" \u{3000}a b\u{85} ", [.strip(left: true, right: true)]) == "a b")
        #expect(normalize("  a ", [.strip(left: false, right: true)]) == "  a")
        #expect(normalize("a  b   c d", [.replaceRun(unit: [0x20], minimumRun: 2, content: metaspaceUTF8)]) == "a▁b▁c d")
        #expect(normalize("abcabc", [.replaceLiteral(pattern: Array("bc".utf8), content: Array("-".utf8))]) == "a-a-")
    }

    @Test func runRegexParsing() {
        #expect(TokenizerJSONLoader.parseRunRegex(" {2,}")! == ([0x20], 2))
        #expect(TokenizerJSONLoader.parseRunRegex("▁+")! == (metaspaceUTF8, 1))
        #expect(TokenizerJSONLoader.parseRunRegex("\\s+") == nil)
        #expect(TokenizerJSONLoader.parseRunRegex(" {2,3}") == nil)
        #expect(TokenizerJSONLoader.parseRunRegex("ab+") == nil)
    }
}
