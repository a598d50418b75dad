// Byte-level UTF-8 helpers: the pipeline works on UTF-8 bytes, not Characters, for speed.

/// The metaspace character `▁` (U+2581) in UTF-8.
let metaspaceUTF8: [UInt8] = [0xE2, 0x96, 0x81]

/// Length of the UTF-8 sequence that starts with `lead` (input is known-valid UTF-8).
@inline(__always)
func utf8SequenceLength(_ lead: UInt8) -> Int {
    if lead < 0x80 { return 1 }
    if lead < 0xE0 { return 2 }
    if lead < 0xF0 { return 3 }
    return 4
}

@inline(__always)
func isUTF8Continuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

/// Decodes the scalar starting at `i` of known-valid UTF-8.
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 {
        return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12
        | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
}

/// Unicode White_Space, the set Rust's `char::is_whitespace` and regex `\s` use in HF tokenizers.
@inline(__always)
func isUnicodeWhiteSpace(_ v: UInt32) -> Bool {
    if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
    switch v {
    case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
    default: return false
    }
}

/// Byte length of the run of White_Space scalars at the start of `p[start..<end]`.
func leadingWhiteSpaceLength(_ p: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
    var i = start
    while i < end {
        let (v, n) = decodeScalar(p, at: i)
        if !isUnicodeWhiteSpace(v) { break }
        i += n
    }
    return i - start
}

/// Start of the run of White_Space scalars that ends at `end` (scanning back no further than `start`).
func trailingWhiteSpaceStart(_ p: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
    var i = end
    while i > start {
        var j = i - 1
        while j > start && isUTF8Continuation(p[j]) { j -= 1 }
        if !isUnicodeWhiteSpace(decodeScalar(p, at: j).value) { break }
        i = j
    }
    return i
}

/// Offset of the first invalid byte of `bytes` as UTF-8, or nil if it is valid.
func firstInvalidUTF8Offset<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
    var decoder = UTF8()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let s): offset += UTF8.width(s)
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}
