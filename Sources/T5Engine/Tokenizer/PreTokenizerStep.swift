// Pre-tokenizer stages: HF `Metaspace` (spaces → `▁`, prepend, split before each `▁`) and
// `WhitespaceSplit` (used by the original t5-small tokenizer.json before Metaspace).

enum PreTokenizerStep: Sendable {
    /// `prepend`: the `always` scheme (false = `never`; `first` is not supported).
    case metaspace(replacement: [UInt8], prepend: Bool, split: Bool)
    /// Split on White_Space scalars, dropping them.
    case whitespaceSplit

    /// Splits every piece of `pieces` (ranges into `buffer`) further, appending new bytes to
    /// `buffer` when a piece is rewritten. Empty pieces are dropped, as HF does.
    func apply(to pieces: inout [Range<Int>], buffer: inout [UInt8], scratch: inout [Range<Int>]) {
        scratch.removeAll(keepingCapacity: true)
        switch self {
        case .whitespaceSplit:
            for piece in pieces {
                buffer.withUnsafeBufferPointer { p in
                    var i = piece.lowerBound
                    var start = i
                    while i < piece.upperBound {
                        let (v, n) = decodeScalar(p, at: i)
                        if isUnicodeWhiteSpace(v) {
                            if start < i { scratch.append(start..<i) }
                            start = i + n
                        }
                        i += n
                    }
                    if start < piece.upperBound { scratch.append(start..<piece.upperBound) }
                }
            }
        case .metaspace(let replacement, let prepend, let split):
            for piece in pieces where !piece.isEmpty {
                let start = buffer.count
                buffer.reserveCapacity(buffer.count + piece.count * 3 + replacement.count)
                // HF replaces spaces first, then prepends unless the text starts with `▁`.
                if prepend && buffer[piece.lowerBound] != 0x20 && !Self.hasPrefix(replacement, buffer, piece) {
                    buffer.append(contentsOf: replacement)
                }
                for i in piece {
                    let b = buffer[i]
                    if b == 0x20 { buffer.append(contentsOf: replacement) } else { buffer.append(b) }
                }
                let end = buffer.count
                if !split {
                    scratch.append(start..<end)
                    continue
                }
                // MergedWithNext: each `▁` starts a new piece.
                var pieceStart = start
                var i = start
                while i < end {
                    if buffer[i] == replacement[0] && Self.hasPrefix(replacement, buffer, i..<end) {
                        if pieceStart < i { scratch.append(pieceStart..<i) }
                        pieceStart = i
                        i += replacement.count
                    } else {
                        i += 1
                    }
                }
                if pieceStart < end { scratch.append(pieceStart..<end) }
            }
        }
        swap(&pieces, &scratch)
    }

    @inline(__always)
    private static func hasPrefix(_ prefix: [UInt8], _ buffer: [UInt8], _ range: Range<Int>) -> Bool {
        if range.count < prefix.count { return false }
        for k in 0..<prefix.count where buffer[range.lowerBound + k] != prefix[k] { return false }
        return true
    }
}
