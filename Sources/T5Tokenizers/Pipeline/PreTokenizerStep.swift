// Pre-tokenizer stages: HF `Metaspace` (spaces → `▁`, prepend, split before each `▁`) and
// `WhitespaceSplit` (used by the original t5-small tokenizer.json before Metaspace).

enum PreTokenizerStep: Sendable {
    /// `prepend`: the `always` scheme (false = `never`; `first` is not supported).
    case metaspace(replacement: [UInt8], prepend: Bool, split: Bool)
    /// Split on White_Space scalars, dropping them.
    case whitespaceSplit

    /// Splits each of `pieces` (ranges of `source`) further; the results are ranges of `target`
    /// (cleared first). Empty pieces are dropped, as HF does.
    func apply(
        _ pieces: [Range<Int>], of source: UnsafeBufferPointer<UInt8>,
        into target: inout [UInt8], pieces out: inout [Range<Int>]
    ) {
        target.removeAll(keepingCapacity: true)
        out.removeAll(keepingCapacity: true)
        switch self {
        case .whitespaceSplit:
            target.append(contentsOf: source)
            for piece in pieces {
                var i = piece.lowerBound
                var start = i
                while i < piece.upperBound {
                    let (v, n) = decodeScalar(source, at: i)
                    if isUnicodeWhiteSpace(v) {
                        if start < i { out.append(start..<i) }
                        start = i + n
                    }
                    i += n
                }
                if start < piece.upperBound { out.append(start..<piece.upperBound) }
            }
        case .metaspace(let replacement, let prepend, let split):
            target.reserveCapacity(source.count * replacement.count + replacement.count * pieces.count)
            let mark = replacement[0]
            for piece in pieces where !piece.isEmpty {
                let start = target.count
                // HF replaces spaces first, then prepends unless the text starts with `▁`.
                if prepend && source[piece.lowerBound] != 0x20 && !Self.hasPrefix(replacement, source, piece.lowerBound, piece.upperBound) {
                    target.append(contentsOf: replacement)
                }
                // MergedWithNext: every `▁` (written for a space, or already there) starts a piece.
                var pieceStart = start
                var copied = piece.lowerBound
                var i = piece.lowerBound
                while i < piece.upperBound {
                    let b = source[i]
                    if b != 0x20 && b != mark {
                        i += 1
                        continue
                    }
                    let isSpace = b == 0x20
                    if !isSpace && !Self.hasPrefix(replacement, source, i, piece.upperBound) {
                        i += 1
                        continue
                    }
                    target.append(contentsOf: UnsafeBufferPointer(rebasing: source[copied..<i]))
                    if split && pieceStart < target.count {
                        out.append(pieceStart..<target.count)
                        pieceStart = target.count
                    }
                    target.append(contentsOf: replacement)
                    i += isSpace ? 1 : replacement.count
                    copied = i
                }
                target.append(contentsOf: UnsafeBufferPointer(rebasing: source[copied..<piece.upperBound]))
                if pieceStart < target.count { out.append(pieceStart..<target.count) }
            }
        }
    }

    @inline(__always)
    private static func hasPrefix(_ prefix: [UInt8], _ source: UnsafeBufferPointer<UInt8>, _ at: Int, _ end: Int) -> Bool {
        if end - at < prefix.count { return false }
        for k in 0..<prefix.count where source[at + k] != prefix[k] { return false }
        return true
    }
}
