// A minimal protobuf wire-format reader (varints, fixed32/64, length-delimited fields), enough to
// read spiece.model without generated code. Every read is bounds-checked.

struct ProtobufReader {
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    struct Failure: Error {
        var reason: String
    }

    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int

    init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        self.position = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
    }

    var isAtEnd: Bool { position >= end }

    mutating func readVarint() throws(Failure) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw Failure(reason: "truncated varint at byte \(position)") }
            let b = bytes[position]
            position += 1
            guard shift < 64 else { throw Failure(reason: "varint longer than 10 bytes at byte \(position)") }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return value }
            shift += 7
        }
    }

    /// The next field number and wire type.
    mutating func readTag() throws(Failure) -> (field: Int, wireType: WireType) {
        let at = position
        let tag = try readVarint()
        guard let type = WireType(rawValue: tag & 7), tag >> 3 > 0, tag >> 3 < (1 << 29) else {
            throw Failure(reason: "invalid field tag \(tag) at byte \(at)")
        }
        return (Int(tag >> 3), type)
    }

    mutating func readFixed32() throws(Failure) -> UInt32 {
        guard end - position >= 4 else { throw Failure(reason: "truncated fixed32 at byte \(position)") }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[position + k]) << (8 * UInt32(k)) }
        position += 4
        return v
    }

    /// The byte range of a length-delimited field's payload (and moves past it).
    mutating func readLengthDelimited() throws(Failure) -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw Failure(reason: "field of \(length) bytes at byte \(position) runs past the end (\(end))")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// Strict UTF-8 string payload.
    mutating func readString() throws(Failure) -> String {
        let range = try readLengthDelimited()
        if let bad = firstInvalidUTF8Offset(bytes[range]) {
            throw Failure(reason: "string at byte \(range.lowerBound) is not UTF-8 (offset \(bad))")
        }
        return String(decoding: bytes[range], as: UTF8.self)
    }

    mutating func skip(_ type: WireType) throws(Failure) {
        switch type {
        case .varint: _ = try readVarint()
        case .fixed32: _ = try readFixed32()
        case .fixed64:
            guard end - position >= 8 else { throw Failure(reason: "truncated fixed64 at byte \(position)") }
            position += 8
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup:
            throw Failure(reason: "deprecated group field at byte \(position)")
        }
    }

    /// A reader over a nested message payload.
    func nested(_ range: Range<Int>) -> ProtobufReader { ProtobufReader(bytes, range: range) }
}
