// The normalizer stages a T5 tokenizer uses (HF `Sequence` of Precompiled, Strip, Replace),
// each rewriting one text segment's UTF-8 bytes.

enum NormalizerStep: Sendable {
    /// HF `Precompiled`: the SentencePiece charsmap applied per grapheme cluster.
    case precompiled(PrecompiledCharsMap)
    /// HF `Strip`: drop White_Space scalars at the start and/or end.
    case strip(left: Bool, right: Bool)
    /// HF `Replace` with a String pattern: every non-overlapping occurrence, left to right.
    case replaceLiteral(pattern: [UInt8], content: [UInt8])
    /// HF `Replace` with a regex of the form `X{n,}` / `X+`: each run of at least `minimumRun`
    /// copies of `unit` becomes `content` (T5: `" {2,}"` → `▁`).
    case replaceRun(unit: [UInt8], minimumRun: Int, content: [UInt8])

    /// Rewrites `input` into `output` (cleared first).
    func apply(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        switch self {
        case .precompiled(let map):
            map.normalize(input, into: &output)
        case .strip(let left, let right):
            var start = 0
            var end = input.count
            if left { start += leadingWhiteSpaceLength(input, from: 0, to: end) }
            if right { end = trailingWhiteSpaceStart(input, from: start, to: end) }
            output.append(contentsOf: input[start..<end])
        case .replaceLiteral(let pattern, let content):
            var i = 0
            var copied = 0
            while let at = Self.next(pattern, in: input, from: i) {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<at]))
                output.append(contentsOf: content)
                i = at + pattern.count
                copied = i
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied...]))
        case .replaceRun(let unit, let minimumRun, let content):
            var i = 0
            var copied = 0
            while let at = Self.next(unit, in: input, from: i) {
                var run = 1
                var j = at + unit.count
                while Self.matches(unit, in: input, at: j) {
                    run += 1
                    j += unit.count
                }
                if run >= minimumRun {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<at]))
                    output.append(contentsOf: content)
                    copied = j
                }
                i = j
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied...]))
        }
    }

    /// Start of the first occurrence of `pattern` at or after `from`.
    @inline(__always)
    private static func next(_ pattern: [UInt8], in input: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let first = pattern.first else { return nil }
        var i = from
        while i < input.count {
            if input[i] == first && matches(pattern, in: input, at: i) { return i }
            i += 1
        }
        return nil
    }

    @inline(__always)
    private static func matches(_ pattern: [UInt8], in input: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        if pattern.isEmpty || i + pattern.count > input.count { return false }
        if input[i] != pattern[0] { return false }
        var k = 1
        while k < pattern.count {
            if input[i + k] != pattern[k] { return false }
            k += 1
        }
        return true
    }
}
