// The encode path of HF's `Tokenizer::encode` for one input: added tokens split off the raw text,
// each remaining segment normalized, pre-tokenized and run through Unigram, then the template.

struct TokenizerPipeline: Sendable {
    let model: UnigramModel
    let normalizer: [NormalizerStep]
    let preTokenizer: [PreTokenizerStep]
    /// Added tokens matched in the raw text (`normalized: false`, e.g. every T5 special token).
    let rawMatcher: AddedTokenMatcher
    /// Added tokens matched in normalized text, against their own normalized content.
    let normalizedMatcher: AddedTokenMatcher
    let prefixIds: [Int]
    let suffixIds: [Int]

    init(_ definition: TokenizerDefinition) {
        model = definition.model
        normalizer = definition.normalizer
        preTokenizer = definition.preTokenizer
        prefixIds = definition.prefixIds
        suffixIds = definition.suffixIds
        let raw = definition.addedTokens.filter { !$0.normalized }
        rawMatcher = AddedTokenMatcher(tokens: raw, patterns: raw.map { Array($0.content.utf8) })
        let normalized = definition.addedTokens.filter(\.normalized)
        var patterns: [[UInt8]] = []
        var scratch = Scratch()
        for token in normalized {
            let content = Array(token.content.utf8)
            patterns.append(content.withUnsafeBufferPointer {
                Self.normalize($0, steps: definition.normalizer, scratch: &scratch)
            })
        }
        normalizedMatcher = AddedTokenMatcher(tokens: normalized, patterns: patterns)
    }

    /// Buffers reused across the segments and pieces of one encode call.
    struct Scratch {
        var a: [UInt8] = []
        var b: [UInt8] = []
        var c: [UInt8] = []
        var pieces: [Range<Int>] = []
        var piecesSpare: [Range<Int>] = []
        var rawSplits: [AddedTokenSplit] = []
        var normalizedSplits: [AddedTokenSplit] = []
        var lattice = UnigramModel.Lattice()
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.count / 3 + 4)
        if addSpecialTokens { ids += prefixIds }
        var scratch = Scratch()
        if rawMatcher.isEmpty {
            encodeSegment(text, scratch: &scratch, into: &ids)
        } else {
            rawMatcher.split(text, into: &scratch.rawSplits)
            let splits = scratch.rawSplits
            for split in splits {
                switch split {
                case .token(let id): ids.append(id)
                case .text(let range): encodeSegment(UnsafeBufferPointer(rebasing: text[range]), scratch: &scratch, into: &ids)
                }
            }
        }
        if addSpecialTokens { ids += suffixIds }
        return ids
    }

    /// Runs the normalizer steps over `input`; the result is returned as a new array.
    static func normalize(
        _ input: UnsafeBufferPointer<UInt8>, steps: [NormalizerStep], scratch: inout Scratch
    ) -> [UInt8] {
        guard let first = steps.first else { return Array(input) }
        var current = take(&scratch.a)
        var next = take(&scratch.b)
        first.apply(input, into: &current)
        for step in steps.dropFirst() {
            current.withUnsafeBufferPointer { step.apply($0, into: &next) }
            swap(&current, &next)
        }
        scratch.b = next
        return current
    }

    private func encodeSegment(_ segment: UnsafeBufferPointer<UInt8>, scratch: inout Scratch, into ids: inout [Int]) {
        let normalized = Self.normalize(segment, steps: normalizer, scratch: &scratch)
        if normalizedMatcher.isEmpty {
            tokenize(normalized, 0..<normalized.count, scratch: &scratch, into: &ids)
        } else {
            normalized.withUnsafeBufferPointer { normalizedMatcher.split($0, into: &scratch.normalizedSplits) }
            let splits = scratch.normalizedSplits
            for split in splits {
                switch split {
                case .token(let id): ids.append(id)
                case .text(let range): tokenize(normalized, range, scratch: &scratch, into: &ids)
                }
            }
        }
        scratch.a = normalized
    }

    /// Pre-tokenizes `normalized[range]` and appends the Unigram ids of every piece.
    private func tokenize(_ normalized: [UInt8], _ range: Range<Int>, scratch: inout Scratch, into ids: inout [Int]) {
        if range.isEmpty { return }
        var source = take(&scratch.b)
        var target = take(&scratch.c)
        var pieces = take(&scratch.pieces)
        var next = take(&scratch.piecesSpare)
        source.removeAll(keepingCapacity: true)
        source.append(contentsOf: normalized[range])
        pieces.removeAll(keepingCapacity: true)
        pieces.append(0..<source.count)
        for step in preTokenizer {
            source.withUnsafeBufferPointer { step.apply(pieces, of: $0, into: &target, pieces: &next) }
            swap(&source, &target)
            swap(&pieces, &next)
        }
        source.withUnsafeBufferPointer { p in
            for piece in pieces {
                model.encode(UnsafeBufferPointer(rebasing: p[piece]), lattice: &scratch.lattice, into: &ids)
            }
        }
        scratch.b = source
        scratch.c = target
        scratch.pieces = pieces
        scratch.piecesSpare = next
    }
}

/// Moves an array out of a scratch slot so that mutating it does not copy (the slot is left empty).
@inline(__always)
private func take<T>(_ slot: inout [T]) -> [T] {
    var out: [T] = []
    swap(&out, &slot)
    return out
}
