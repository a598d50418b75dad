// The Unigram model: scored pieces, a trie for prefix search, and HF's Viterbi
// (`encode_optimized`) with runs of unknown characters fused into one `<unk>`.

struct UnigramModel: Sendable {
    /// Piece strings by id, exactly as in the file.
    let pieces: [String]
    let scores: [Double]
    let unknownId: Int
    /// Score of the unknown-character edge: lowest piece score minus 10 (HF `K_UNK_PENALTY`).
    let unknownScore: Double
    /// Piece bytes → id; duplicates resolve to the last id, as HF's `token_to_ids`.
    let trie: DoubleArrayTrie
    /// Every score is exactly a Float and stored in the trie units (converted back exactly).
    let scoresInTrie: Bool

    init(pieces: [String], scores: [Double], unknownId: Int?, source: String) throws(TokenizerError) {
        guard !pieces.isEmpty else { throw .emptyVocabulary(path: source) }
        guard let unknownId, unknownId >= 0, unknownId < pieces.count else {
            throw .invalidUnknownTokenId(path: source, id: unknownId, vocabularySize: pieces.count)
        }
        self.pieces = pieces
        self.scores = scores
        self.unknownId = unknownId
        self.unknownScore = (scores.min() ?? 0) - 10
        // SentencePiece scores are floats, so this holds for T5; otherwise read `scores`.
        scoresInTrie = scores.allSatisfy { Double(Float($0)) == $0 }
        self.trie = DoubleArrayTrie(
            keys: pieces.map { Array($0.utf8) }, values: pieces.indices.map { Int32($0) },
            scores: scoresInTrie ? scores.map { Float($0) } : nil)
    }

    /// Reusable Viterbi arrays (one per encode call; not shared between threads).
    struct Lattice {
        var score: [Double] = []
        var start: [Int32] = []
        var id: [Int32] = []

        mutating func reset(_ count: Int) {
            if score.count < count {
                score = [Double](repeating: 0, count: count)
                start = [Int32](repeating: -1, count: count)
                id = [Int32](repeating: 0, count: count)
            }
            for k in 0..<count { start[k] = -1 }
            score[0] = 0
        }
    }

    /// Appends the ids of the best segmentation of `text` (one pre-tokenized piece, valid UTF-8).
    func encode(_ text: UnsafeBufferPointer<UInt8>, lattice: inout Lattice, into ids: inout [Int]) {
        let n = text.count
        if n == 0 { return }
        lattice.reset(n + 1)
        trie.units.withUnsafeBufferPointer { u in
            scores.withUnsafeBufferPointer { scores in
                lattice.score.withUnsafeMutableBufferPointer { best in
                    lattice.start.withUnsafeMutableBufferPointer { from in
                        lattice.id.withUnsafeMutableBufferPointer { idAt in
                            forward(text, u, scores, best, from, idAt)
                        }
                    }
                }
            }
        }
        backtrack(text, lattice: lattice, into: &ids)
    }

    /// Best path to each position; ties keep the earlier candidate (HF replaces only on `>`).
    @inline(__always)
    private func forward(
        _ text: UnsafeBufferPointer<UInt8>, _ u: UnsafeBufferPointer<DoubleArrayTrie.Unit>,
        _ scores: UnsafeBufferPointer<Double>, _ best: UnsafeMutableBufferPointer<Double>,
        _ from: UnsafeMutableBufferPointer<Int32>, _ idAt: UnsafeMutableBufferPointer<Int32>
    ) {
        let n = text.count
        let unitCount = u.count
        var position = 0
        while position < n {
            let here = best[position]
            let charLength = utf8SequenceLength(text[position])
            var hasSingleCharacterPiece = false
            var state = 0
            var j = position
            while j < n {
                let t = Int(u[state].base) &+ Int(text[j])
                if t >= unitCount || u[t].check != Int32(truncatingIfNeeded: state) { break }
                state = t
                j += 1
                let v = u[t].value
                if v >= 0 {
                    let candidate = (scoresInTrie ? Double(u[t].score) : scores[Int(v)]) + here
                    if from[j] < 0 || candidate > best[j] {
                        best[j] = candidate
                        from[j] = Int32(position)
                        idAt[j] = v
                    }
                    if j - position == charLength { hasSingleCharacterPiece = true }
                }
            }
            if !hasSingleCharacterPiece {
                // `min` only matters for malformed UTF-8, which callers never pass; it keeps the
                // unchecked writes below inside the lattice even then.
                let j = min(position + charLength, n)
                let candidate = unknownScore + here
                if from[j] < 0 || candidate > best[j] {
                    best[j] = candidate
                    from[j] = Int32(position)
                    idAt[j] = Int32(unknownId)
                }
            }
            position = min(position + charLength, n)
        }
    }

    /// Walks the best path back. Consecutive `<unk>` nodes fuse into one token whose id is looked
    /// up by its text, as HF does (normally not a piece, hence `<unk>`).
    private func backtrack(_ text: UnsafeBufferPointer<UInt8>, lattice: Lattice, into ids: inout [Int]) {
        let firstNew = ids.count
        var end = text.count
        var unknownRunEnd = -1
        var unknownRunNodes = 0
        func flushUnknownRun(start: Int) {
            if unknownRunNodes == 0 { return }
            if unknownRunNodes == 1 {
                ids.append(unknownId)
            } else {
                let run = UnsafeBufferPointer(rebasing: text[start..<unknownRunEnd])
                ids.append(trie.value(for: run).map { Int($0) } ?? unknownId)
            }
            unknownRunNodes = 0
        }
        while end > 0 {
            let start = Int(lattice.start[end])
            let id = Int(lattice.id[end])
            if id == unknownId {
                if unknownRunNodes == 0 { unknownRunEnd = end }
                unknownRunNodes += 1
            } else {
                flushUnknownRun(start: end)
                ids.append(id)
            }
            end = start
        }
        flushUnknownRun(start: 0)
        ids[firstNew...].reverse()
    }
}
