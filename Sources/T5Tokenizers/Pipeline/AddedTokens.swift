// Added (special) tokens such as `</s>` and `<extra_id_0>`: matched before the model runs,
// leftmost-longest like HF's Aho-Corasick, with their lstrip/rstrip whitespace absorption.

struct AddedToken: Sendable, Equatable {
    var content: String
    var id: Int
    var lstrip: Bool = false
    var rstrip: Bool = false
    /// Matched in normalized text (true) or in the raw input (false; all T5 special tokens).
    var normalized: Bool = false
    /// Removed by `decode(skipSpecialTokens: true)`.
    var special: Bool = true
}

/// One piece of a split: plain text (a byte range) or an added token's id.
enum AddedTokenSplit: Equatable {
    case text(Range<Int>)
    case token(Int)
}

struct AddedTokenMatcher: Sendable {
    private let tokens: [AddedToken]
    /// Pattern bytes → index in `tokens`.
    private let trie: DoubleArrayTrie
    /// Bytes that start some pattern: the scan skips all others.
    private let startsPattern: [Bool]

    var isEmpty: Bool { tokens.isEmpty }

    /// `patterns[k]` is what to look for for `tokens[k]` (its content, or its normalized content).
    init(tokens: [AddedToken], patterns: [[UInt8]]) {
        var kept: [AddedToken] = []
        var keys: [[UInt8]] = []
        var first = [Bool](repeating: false, count: 256)
        for (token, pattern) in zip(tokens, patterns) where !pattern.isEmpty {
            keys.append(pattern)
            kept.append(token)
            first[Int(pattern[0])] = true
        }
        self.tokens = kept
        self.trie = DoubleArrayTrie(keys: keys, values: keys.indices.map { Int32($0) })
        self.startsPattern = first
    }

    /// HF `AddedVocabulary::find_matches`: splits covering `text`, in order.
    func split(_ text: UnsafeBufferPointer<UInt8>, into splits: inout [AddedTokenSplit]) {
        splits.removeAll(keepingCapacity: true)
        let n = text.count
        var startOffset = 0
        var i = 0
        trie.units.withUnsafeBufferPointer { u in
            while i < n {
                if !startsPattern[Int(text[i])] {
                    i += 1
                    continue
                }
                guard let (index, matchEnd) = longestMatch(text, at: i, u) else {
                    i += 1
                    continue
                }
                let token = tokens[index]
                var start = i
                var stop = matchEnd
                if token.lstrip {
                    start = max(trailingWhiteSpaceStart(text, from: 0, to: start), startOffset)
                }
                if token.rstrip {
                    stop += leadingWhiteSpaceLength(text, from: stop, to: n)
                }
                if startOffset < start { splits.append(.text(startOffset..<start)) }
                splits.append(.token(token.id))
                startOffset = stop
                // The search resumes after the match itself, not after the absorbed whitespace.
                i = matchEnd
            }
        }
        if startOffset < n { splits.append(.text(startOffset..<n)) }
    }

    @inline(__always)
    private func longestMatch(
        _ text: UnsafeBufferPointer<UInt8>, at i: Int, _ u: UnsafeBufferPointer<DoubleArrayTrie.Unit>
    ) -> (Int, Int)? {
        var state = 0
        var found: (Int, Int)?
        var j = i
        while j < text.count {
            let t = Int(u[state].base) + Int(text[j])
            if t >= u.count || u[t].check != Int32(state) { break }
            state = t
            j += 1
            if u[t].value >= 0 { found = (Int(u[t].value), j) }
        }
        return found
    }
}
