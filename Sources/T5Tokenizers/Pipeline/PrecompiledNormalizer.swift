// Applies the charsmap the way HF's `Precompiled` normalizer does: per extended grapheme cluster,
// a cluster under 6 bytes whose prefix is a key becomes that key's replacement, else per scalar.

extension PrecompiledCharsMap {
    /// Appends the normalization of `text` (valid UTF-8, one segment between added tokens) to `out`.
    func normalize(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let n = text.count
        out.reserveCapacity(out.count + n)
        var i = 0
        // `text[copied..<i]` maps to itself and is copied in bulk when something else comes up.
        var copied = 0
        while i < n {
            let b = text[i]
            // Fast path: an ASCII scalar followed by an ASCII scalar (or the end) is a cluster of its
            // own; only CR LF joins two ASCII scalars (GB3), and no ASCII scalar is Extend,
            // SpacingMark, ZWJ or Prepend, so nothing else can glue to it.
            if b < 0x80 && (i + 1 == n || (text[i + 1] < 0x80 && !(b == 0x0D && text[i + 1] == 0x0A))) {
                if let r = asciiTransform(b) {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<i]))
                    appendReplacement(r, to: &out)
                    copied = i + 1
                }
                i += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<i]))
            // Slow path up to the next position that is surely a cluster boundary: an ASCII scalar
            // preceded by an ASCII scalar (not CR LF). Clusters cannot straddle it.
            var j = i + 1
            while j < n && !(text[j] < 0x80 && text[j - 1] < 0x80 && !(text[j - 1] == 0x0D && text[j] == 0x0A)) {
                j += 1
            }
            normalizeClusters(UnsafeBufferPointer(rebasing: text[i..<j]), into: &out)
            i = j
            copied = j
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: text[copied..<n]))
    }

    /// Segments with Swift's extended grapheme clusters (the same rules as unicode-segmentation).
    private func normalizeClusters(_ run: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let string = String(decoding: run, as: UTF8.self)
        let utf8 = string.utf8
        var start = string.startIndex
        var offset = 0
        while start < string.endIndex {
            let end = string.index(after: start)
            let length = utf8.distance(from: start, to: end)
            let cluster = UnsafeBufferPointer(rebasing: run[offset..<(offset + length)])
            normalizeCluster(cluster, into: &out)
            offset += length
            start = end
        }
    }

    private func normalizeCluster(_ cluster: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        // Whole cluster: shortest matching key wins and the rest of the cluster (e.g. trailing
        // combining marks) is dropped. This is HF's behaviour, not sentencepiece's.
        if cluster.count < 6, let r = transform(cluster) {
            appendReplacement(r, to: &out)
            return
        }
        var k = 0
        while k < cluster.count {
            let length = utf8SequenceLength(cluster[k])
            let scalar = UnsafeBufferPointer(rebasing: cluster[k..<(k + length)])
            if let r = transform(scalar) { appendReplacement(r, to: &out) } else { out.append(contentsOf: scalar) }
            k += length
        }
    }
}
