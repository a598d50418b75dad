// SentencePiece's precompiled normalization map (nmt_nfkc): a Darts-clone double-array trie over
// UTF-8 keys whose values are offsets of NUL-terminated replacements. Read exactly as HF spm_precompiled.

struct PrecompiledCharsMap: Sendable {
    /// Darts-clone units. XOR-linked, label-checked; suffixes are shared (it is a DAG, not a tree).
    private let units: [UInt32]
    /// NUL-separated UTF-8 replacement strings; a trie value is an offset in here.
    private let replacements: [UInt8]
    /// For each ASCII byte alone: the replacement's range in `replacements`, or nil if unchanged.
    private let asciiReplacement: [Range<Int>?]

    /// Blob layout: u32 LE trie size in bytes, that many bytes of u32 LE units, then the strings.
    init(blob: [UInt8], source: String) throws(TokenizerError) {
        guard blob.count >= 4 else {
            throw .malformedCharsMap(path: source, reason: "blob of \(blob.count) bytes has no trie size")
        }
        let trieBytes = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        // Like spm_precompiled, a size that is not a multiple of 4 reads floor(size / 4) units.
        let unitCount = trieBytes / 4
        guard unitCount > 0, 4 + unitCount * 4 <= blob.count else {
            throw .malformedCharsMap(
                path: source,
                reason: "trie size \(trieBytes) bytes does not fit in a blob of \(blob.count) bytes")
        }
        var units = [UInt32](repeating: 0, count: unitCount)
        for k in 0..<unitCount {
            let o = 4 + 4 * k
            units[k] = UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16
                | UInt32(blob[o + 3]) << 24
        }
        let strings = Array(blob[(4 + unitCount * 4)...])
        // HF requires the whole string area to be UTF-8 (it is a Rust String).
        if let bad = firstInvalidUTF8Offset(strings) {
            throw .malformedCharsMap(
                path: source, reason: "replacement strings are not UTF-8 (byte \(bad) of the string area)")
        }
        try Self.validate(units: units, replacements: strings, source: source)
        self.units = units
        self.replacements = strings
        var ascii = [Range<Int>?](repeating: nil, count: 128)
        units.withUnsafeBufferPointer { u in
            strings.withUnsafeBufferPointer { r in
                for byte in 1..<128 {
                    var key = UInt8(byte)
                    ascii[byte] = withUnsafePointer(to: &key) {
                        Self.shortestMatch(units: u, replacements: r, key: UnsafeBufferPointer(start: $0, count: 1))
                    }
                }
            }
        }
        // Byte 0 stays nil: HF's lookup stops at a NUL byte, so NUL is never a key.
        self.asciiReplacement = ascii
    }

    /// Darts-clone unit fields.
    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & (0x8000_0000 | 0xFF) }
    @inline(__always) private static func offset(_ u: UInt32) -> Int {
        Int((u >> 10) << ((u & (1 << 9)) >> 6))
    }

    /// Walks every node reachable from the root so that no later lookup can read outside the
    /// units or the strings (HF would panic there; we refuse the file instead).
    private static func validate(units: [UInt32], replacements: [UInt8], source: String) throws(TokenizerError) {
        let count = units.count
        var visited = [Bool](repeating: false, count: count)
        var stack = [0]
        visited[0] = true
        while let node = stack.popLast() {
            let unit = units[node]
            let base = node ^ offset(unit)
            // Children live at base ^ label for labels 0...255: the whole 256-block must exist.
            guard base | 0xFF < count else {
                throw .malformedCharsMap(
                    path: source, reason: "trie node \(node) points to unit \(base), outside \(count) units")
            }
            if node != 0 && hasLeaf(unit) {  // lookups never read the root's leaf
                let v = value(units[base])
                guard v <= replacements.count,
                      v == replacements.count || !isUTF8Continuation(replacements[v]) else {
                    throw .malformedCharsMap(
                        path: source,
                        reason: "trie value \(v) is not the start of a string in \(replacements.count) bytes")
                }
            }
            for c in 1...255 {
                let child = base ^ c
                if label(units[child]) == UInt32(c) && !visited[child] {
                    visited[child] = true
                    stack.append(child)
                }
            }
        }
    }

    /// HF `Precompiled::transform`: the replacement of the *shortest* key that prefixes `key`.
    @inline(__always)
    private static func shortestMatch(
        units: UnsafeBufferPointer<UInt32>, replacements: UnsafeBufferPointer<UInt8>,
        key: UnsafeBufferPointer<UInt8>
    ) -> Range<Int>? {
        var node = offset(units[0])
        for c in key {
            if c == 0 { return nil }
            node ^= Int(c)
            let unit = units[node]
            if label(unit) != UInt32(c) { return nil }
            node ^= offset(unit)
            if hasLeaf(unit) {
                let start = value(units[node])
                var end = start
                while end < replacements.count && replacements[end] != 0 { end += 1 }
                return start..<end
            }
        }
        return nil
    }

    /// Replacement for the shortest key prefixing `key`, or nil when no prefix of it is a key.
    func transform(_ key: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        units.withUnsafeBufferPointer { u in
            replacements.withUnsafeBufferPointer { r in
                Self.shortestMatch(units: u, replacements: r, key: key)
            }
        }
    }

    /// Replacement for one ASCII byte on its own (nil: unchanged).
    @inline(__always)
    func asciiTransform(_ byte: UInt8) -> Range<Int>? { asciiReplacement[Int(byte)] }

    func appendReplacement(_ range: Range<Int>, to out: inout [UInt8]) {
        out.append(contentsOf: replacements[range])
    }

    /// Text of a replacement (for tests and diagnostics).
    func replacementString(_ range: Range<Int>) -> String {
        String(decoding: replacements[range], as: UTF8.self)
    }
}
