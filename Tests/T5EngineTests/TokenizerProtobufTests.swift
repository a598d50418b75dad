// The hand-written protobuf wire reader behind the spiece.model loader.
import Testing
@testable import T5Tokenizers
@testable import T5Engine

@Suite struct TokenizerProtobufTests {
    @Test func varintsAndTags() throws {
        var r = ProtobufReader([0x96, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x08])
        #expect(try r.readVarint() == 150)
        #expect(try r.readVarint() == 0xFFFF_FFFF)
        let (field, type) = try r.readTag()
        #expect(field == 1 && type == .varint)
        #expect(r.isAtEnd)
    }

    @Test func nestedMessagesAndStrings() throws {
        // field 1 (bytes) = { field 1 (string) = "▁a", field 2 (fixed32) = -1.5 }
        let inner: [UInt8] = [0x0A, 0x04, 0xE2, 0x96, 0x81, 0x61, 0x15] + withUnsafeBytes(of: Float(-1.5).bitPattern.littleEndian, Array.init)
        var r = ProtobufReader([0x0A, UInt8(inner.count)] + inner)
        _ = try r.readTag()
        var m = r.nested(try r.readLengthDelimited())
        _ = try m.readTag()
        #expect(try m.readString() == "▁a")
        _ = try m.readTag()
        #expect(Float(bitPattern: try m.readFixed32()) == -1.5)
        #expect(m.isAtEnd && r.isAtEnd)
    }

    @Test func malformedInputThrows() {
        var truncated = ProtobufReader([0x80, 0x80])
        #expect(throws: ProtobufReader.Failure.self) { try truncated.readVarint() }
        var tooLong = ProtobufReader([UInt8](repeating: 0xFF, count: 11) + [0x01])
        #expect(throws: ProtobufReader.Failure.self) { try tooLong.readVarint() }
        var overrun = ProtobufReader([0x0A, 0x05, 0x61])
        _ = try? overrun.readTag()
        #expect(throws: ProtobufReader.Failure.self) { try overrun.readLengthDelimited() }
        var group = ProtobufReader([0x0B])
        #expect(throws: ProtobufReader.Failure.self) { try group.skip(try group.readTag().wireType) }
        var zeroField = ProtobufReader([0x00])
        #expect(throws: ProtobufReader.Failure.self) { try zeroField.readTag() }
        var badString = ProtobufReader([0x02, 0xC3, 0x28])
        #expect(throws: ProtobufReader.Failure.self) { try badString.readString() }
    }
}
