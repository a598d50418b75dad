// Unigram Viterbi on a tiny vocabulary, and the double-array trie under it. Expected ids are
// what HF tokenizers 0.22.2 `models.Unigram` gives for the same vocabulary.
import Testing
@testable import T5Tokenizers
@testable import T5Engine

@Suite struct TokenizerUnigramTests {
    static let vocab: [(String, Double)] = [
        ("<unk>", 0), ("a", -1), ("b", -2), ("ab", -2.5), ("▁", -1), ("▁ab", -3),
        ("c", -1.5), ("bc", -3.5), ("abc", -6), ("xy", -30),
    ]

    func encode(_ text: String) throws -> [Int] {
        let model = try UnigramModel(pieces: Self.vocab.map(\.0), scores: Self.vocab.map(\.1), unknownId: 0, source: "tiny")
        var lattice = UnigramModel.Lattice()
        var ids: [Int] = []
        Array(text.utf8).withUnsafeBufferPointer { model.encode($0, lattice: &lattice, into: &ids) }
        return ids
    }

    @Test(arguments: [
        ("ab", [3]),          // -2.5 beats a + b = -3
        ("abc", [3, 6]),      // ab + c = -4 beats abc = -6 and a + bc = -4.5
        ("bcab", [7, 3]),
        ("zzab", [0, 3]),     // two unknown characters fuse into one <unk>
        ("qzq", [0]),
        ("a<unk>", [1, 0]),   // the literal piece "<unk>" (score 0) is still id 0
        ("xy", [9]),          // one piece at -30 beats two unknowns at min - 10 = -40 each
        ("aq", [1, 0]),
        ("abz", [3, 0]),
        ("", []),
    ])
    func viterbi(text: String, expected: [Int]) throws {
        #expect(try encode(text) == expected)
    }

    @Test func tiesKeepTheFirstCandidate() throws {
        // "ab" scores -2 as one piece and as a + b: "ab" reaches the end first (from position 0)
        // and HF replaces a path only on a strictly better score. HF gives [3] too.
        let model = try UnigramModel(pieces: ["<unk>", "a", "b", "ab"], scores: [0, -1, -1, -2], unknownId: 0, source: "t")
        var lattice = UnigramModel.Lattice()
        var ids: [Int] = []
        Array("ab".utf8).withUnsafeBufferPointer { model.encode($0, lattice: &lattice, into: &ids) }
        #expect(ids == [3])
        // Three-way tie on "abb" (abb, ab + b, a + bb): the first path to reach the end stays.
        let model2 = try UnigramModel(
            pieces: ["<unk>", "a", "ab", "b", "abb", "bb"], scores: [0, -1, -2, -1, -3, -2], unknownId: 0, source: "t")
        ids = []
        Array("abb".utf8).withUnsafeBufferPointer { model2.encode($0, lattice: &lattice, into: &ids) }
        #expect(ids == [4])
    }

    @Test func trieExactAndDuplicateKeys() {
        let keys = ["a", "ab", "abc", "b", "ab", "", "é"].map { Array($0.utf8) }
        let trie = DoubleArrayTrie(keys: keys, values: keys.indices.map { Int32($0) })
        #expect(trie.value(for: Array("a".utf8)) == 0)
        #expect(trie.value(for: Array("ab".utf8)) == 4, "a duplicate key maps to its last id, as HF")
        #expect(trie.value(for: Array("abc".utf8)) == 2)
        #expect(trie.value(for: Array("abcd".utf8)) == nil)
        #expect(trie.value(for: Array("é".utf8)) == 6)
        #expect(trie.value(for: Array("e".utf8)) == nil)
        #expect(trie.value(for: []) == nil, "the empty piece never matches")
    }

    @Test func invalidModelsAreRefused() {
        #expect(throws: TokenizerError.emptyVocabulary(path: "t")) {
            try UnigramModel(pieces: [], scores: [], unknownId: 0, source: "t")
        }
        #expect(throws: TokenizerError.invalidUnknownTokenId(path: "t", id: 5, vocabularySize: 1)) {
            try UnigramModel(pieces: ["a"], scores: [0], unknownId: 5, source: "t")
        }
        #expect(throws: TokenizerError.invalidUnknownTokenId(path: "t", id: nil, vocabularySize: 1)) {
            try UnigramModel(pieces: ["a"], scores: [0], unknownId: nil, source: "t")
        }
    }
}
