// The charsmap's Darts double-array trie: lookups on a hand-built blob and on the real nmt_nfkc
// map, and every way a corrupt blob is refused.
import Foundation
import Testing
@testable import T5Tokenizers
@testable import T5Engine

/// A two-block Darts-clone blob with keys "a" → "A" and "ab" → "X" (units built by hand:
/// unit = offset << 10 | hasLeaf << 8 | label; value units have bit 31 set).
func handBuiltCharsMapBlob(rootOffset: UInt32 = 256, abValue: UInt32 = 2, strings: [UInt8] = Array("A\0X\0".utf8),
                           declaredTrieBytes: UInt32? = nil) -> [UInt8] {
    var units = [UInt32](repeating: 0, count: 512)
    units[0] = rootOffset << 10                      // root: children at 0 ^ 256
    units[353] = 225 << 10 | 1 << 8 | 0x61            // "a" at 256 ^ 0x61; its base 353 ^ 225 = 384
    units[384] = 0x8000_0000 | 0                      // value of "a" (at base ^ 0): offset 0 → "A"
    units[482] = 206 << 10 | 1 << 8 | 0x62            // "ab" at 384 ^ 0x62; its base 482 ^ 206 = 300
    units[300] = 0x8000_0000 | abValue                // value of "ab": offset 2 → "X"
    let size = declaredTrieBytes ?? UInt32(units.count * 4)
    var blob = withUnsafeBytes(of: size.littleEndian, Array.init)
    for u in units { blob += withUnsafeBytes(of: u.littleEndian, Array.init) }
    return blob + strings
}

func lookup(_ map: PrecompiledCharsMap, _ key: String) -> String? {
    Array(key.utf8).withUnsafeBufferPointer { map.transform($0).map(map.replacementString) }
}

func realCharsMap() throws -> PrecompiledCharsMap {
    let definition = try TokenizerJSONLoader.load(Data(contentsOf: TokenizerFixtures.tokenizerJSON), source: "t")
    guard case .precompiled(let map) = definition.normalizer.first else {
        throw TokenizerError.malformedCharsMap(path: "t", reason: "no Precompiled step")
    }
    return map
}

@Suite struct TokenizerCharsMapTests {
    @Test func handBuiltTrieLookup() throws {
        let map = try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(), source: "blob")
        #expect(lookup(map, "a") == "A")
        #expect(lookup(map, "ab") == "A", "the shortest matching key wins, as HF's transform")
        #expect(lookup(map, "b") == nil)
        #expect(lookup(map, "ba") == nil)
        #expect(lookup(map, "") == nil)
        #expect(map.asciiTransform(UInt8(ascii: "a")).map(map.replacementString) == "A")
        #expect(map.asciiTransform(UInt8(ascii: "b")) == nil)
    }

    @Test func realMapLookups() throws {
        let map = try realCharsMap()
        #expect(lookup(map, "Ａ") == "A")
        #expect(lookup(map, "①") == "1")
        #expect(lookup(map, "ﬁ") == "fi")
        #expect(lookup(map, "㍿") == "株式会社")
        #expect(lookup(map, "\t") == " ")
        #expect(lookup(map, "\u{1}") == "")
        #expect(lookup(map, "e\u{301}") == "é")
        #expect(lookup(map, "a") == nil)
        #expect(lookup(map, "\u{85}") == nil, "NEL is not in nmt_nfkc")
        #expect(lookup(map, "\0") == nil, "HF's lookup stops at NUL")
    }

    @Test func rootOffsetOutsideIsRefused() {
        #expect(throws: TokenizerError.self) {
            try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(rootOffset: 4096), source: "blob")
        }
    }

    @Test func valueOutsideStringsIsRefused() {
        #expect(throws: TokenizerError.self) {
            try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(abValue: 999), source: "blob")
        }
    }

    @Test func valueInsideACharacterIsRefused() {
        // "é" is two bytes; offset 1 would start mid-character (HF would panic slicing there).
        #expect(throws: TokenizerError.self) {
            try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(abValue: 3, strings: Array("A\0é\0".utf8)), source: "blob")
        }
    }

    @Test func nonUTF8StringsAreRefused() {
        #expect(throws: TokenizerError.self) {
            try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(strings: [0x41, 0, 0xFF, 0]), source: "blob")
        }
    }

    @Test func truncatedBlobsAreRefused() throws {
        let blob = handBuiltCharsMapBlob()
        for length in [0, 3, 4, 100, 2051] {
            #expect(throws: TokenizerError.self) {
                try PrecompiledCharsMap(blob: Array(blob.prefix(length)), source: "blob")
            }
        }
        #expect(throws: TokenizerError.self) {
            try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(declaredTrieBytes: 1 << 30), source: "blob")
        }
        #expect(throws: TokenizerError.self) {
            try PrecompiledCharsMap(blob: handBuiltCharsMapBlob(declaredTrieBytes: 0), source: "blob")
        }
    }

    @Test func corruptingTheRealBlobNeverCrashes() throws {
        // Overwrite units of the real blob with large offsets: each must load or throw, never trap.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.tokenizerJSON)) as! [String: Any]
        let normalizers = (json["normalizer"] as! [String: Any])["normalizers"] as! [[String: Any]]
        let original = Array(Data(base64Encoded: normalizers[0]["precompiled_charsmap"] as! String)!)
        var refused = 0
        for unit in stride(from: 0, to: 44288, by: 4999) {
            var blob = original
            let o = 4 + unit * 4
            blob[o + 3] = 0x7F  // offset field now far beyond the array
            do { _ = try PrecompiledCharsMap(blob: blob, source: "blob") } catch { refused += 1 }
        }
        #expect(refused > 0)
    }
}
