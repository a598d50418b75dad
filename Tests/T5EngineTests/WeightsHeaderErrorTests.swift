// Rejection of broken safetensors files up to and including the tensor entries' fields.
// Each test asserts the exact WeightsError case, with the file path and tensor it names.

import Foundation
import Testing
import T5Engine

@Suite struct WeightsHeaderErrorTests {
    /// Writes `bytes` as model.safetensors and returns what opening it throws, with the file's path.
    private func openError(_ bytes: [UInt8]) throws -> (error: WeightsError?, path: String) {
        try WeightsFixtures.withTempDirectory { dir in
            let url = try WeightsFixtures.write(bytes, to: dir)
            do {
                _ = try SafetensorsFile(url: url)
                return (nil, url.path)
            } catch {
                return (error as? WeightsError, url.path)
            }
        }
    }

    private func headerError(_ header: String, data: [UInt8] = []) throws -> (error: WeightsError?, path: String) {
        try openError(WeightsFixtures.safetensors(header: header, data: data))
    }

    // MARK: - Files and the length prefix

    @Test func missingFileAndDirectory() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let missing = dir.appendingPathComponent("nope.safetensors")
            #expect(throws: WeightsError.fileNotFound(path: missing.path)) { try SafetensorsFile(url: missing) }
            #expect(throws: WeightsError.notAFile(path: dir.path)) { try SafetensorsFile(url: dir) }
        }
    }

    @Test func emptyFileIsTooShort() throws {
        let result = try openError([])
        #expect(result.error == .tooShort(path: result.path, byteCount: 0))
    }

    @Test func fileShorterThanEightBytes() throws {
        let result = try openError([2, 0, 0, 0, 0])
        #expect(result.error == .tooShort(path: result.path, byteCount: 5))
    }

    @Test func headerLengthLargerThanFile() throws {
        let result = try openError(WeightsFixtures.littleEndian(64) + Array("{}".utf8))
        #expect(result.error == .headerExceedsFile(path: result.path, headerLength: 64, fileSize: 10))
    }

    @Test func absurdHeaderLength() throws {
        let huge = try openError(WeightsFixtures.littleEndian(.max) + Array("{}".utf8))
        #expect(huge.error == .headerTooLarge(path: huge.path, headerLength: .max))
        // Just over the crate's 100 MB limit: rejected before looking at the file size.
        let over = try openError(WeightsFixtures.littleEndian(100_000_001) + Array("{}".utf8))
        #expect(over.error == .headerTooLarge(path: over.path, headerLength: 100_000_001))
    }

    // MARK: - The header as JSON

    @Test func headerNotUTF8() throws {
        let header: [UInt8] = [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D, 0x20]  // {"\xFF":1}
        let result = try openError(WeightsFixtures.littleEndian(8) + header)
        #expect(result.error == .headerNotUTF8(path: result.path))
    }

    @Test func headerNotJSON() throws {
        let truncated = try headerError(#"{"a":"#)
        #expect(truncated.error == .headerNotJSON(path: truncated.path, reason: "unexpected end of input at byte 8"))
        let empty = try openError(WeightsFixtures.littleEndian(0))
        #expect(empty.error == .headerNotJSON(path: empty.path, reason: "unexpected end of input at byte 0"))
        let trailing = try headerError("{} x")
        #expect(trailing.error == .headerNotJSON(path: trailing.path, reason: "unexpected data after the JSON value at byte 3"))
        let nulPadded = try openError(WeightsFixtures.littleEndian(4) + Array("{}".utf8) + [0, 0])
        #expect(nulPadded.error == .headerNotJSON(path: nulPadded.path, reason: "unexpected data after the JSON value at byte 2"))
    }

    @Test func headerNotAnObject() throws {
        let array = try headerError("[1, 2]")
        #expect(array.error == .headerNotObject(path: array.path))
        let string = try headerError(#""model""#)
        #expect(string.error == .headerNotObject(path: string.path))
    }

    @Test func duplicateTensorNames() throws {
        let header = """
            {"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},\
            "w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}
            """
        let result = try headerError(header, data: [1, 2])
        #expect(result.error == .duplicateTensor(path: result.path, name: "w"))
        let metadataTwice = try headerError(#"{"__metadata__":{},"__metadata__":{}}"#)
        #expect(metadataTwice.error == .duplicateTensor(path: metadataTwice.path, name: "__metadata__"))
    }

    @Test func badMetadata() throws {
        let nonString = try headerError(#"{"__metadata__":{"epochs":3}}"#)
        #expect(nonString.error == .badMetadata(path: nonString.path, reason: #"value of "epochs" is a number, not a string"#))
        let notObject = try headerError(#"{"__metadata__":["pt"]}"#)
        #expect(notObject.error == .badMetadata(path: notObject.path, reason: "expected an object, found an array"))
        let repeated = try headerError(#"{"__metadata__":{"k":"a","k":"b"}}"#)
        #expect(repeated.error == .badMetadata(path: repeated.path, reason: #"key "k" appears more than once"#))
    }

    // MARK: - Tensor entry fields

    @Test func entryNotAnObject() throws {
        let result = try headerError(#"{"w":[1,2]}"#)
        #expect(result.error == .badEntry(path: result.path, tensor: "w"))
    }

    @Test func entryMissingFields() throws {
        let noDType = try headerError(#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(noDType.error == .missingField(path: noDType.path, tensor: "w", field: "dtype"))
        let noShape = try headerError(#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(noShape.error == .missingField(path: noShape.path, tensor: "w", field: "shape"))
        let noOffsets = try headerError(#"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0])
        #expect(noOffsets.error == .missingField(path: noOffsets.path, tensor: "w", field: "data_offsets"))
    }

    @Test func unknownDType() throws {
        let f4 = try headerError(#"{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}"#, data: [0])
        #expect(f4.error == .unknownDType(path: f4.path, tensor: "w", dtype: "F4"))
        let lower = try headerError(#"{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(lower.error == .unknownDType(path: lower.path, tensor: "w", dtype: "f32"))
    }

    @Test func badFieldTypes() throws {
        let dtype = try headerError(#"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(dtype.error == .badField(path: dtype.path, tensor: "w", field: "dtype", reason: "expected a string, found a number"))
        let shape = try headerError(#"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(shape.error == .badField(path: shape.path, tensor: "w", field: "shape", reason: "expected an array, found a string"))
        let fraction = try headerError(#"{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(fraction.error == .badField(path: fraction.path, tensor: "w", field: "shape", reason: "dimensions must be integers"))
        let negative = try headerError(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(negative.error == .badField(path: negative.path, tensor: "w", field: "shape", reason: "dimension -1 is negative"))
        let offsets = try headerError(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: [0, 0, 0, 0])
        #expect(offsets.error == .badField(path: offsets.path, tensor: "w", field: "data_offsets", reason: "expected [begin, end] integers"))
        let exponent = try headerError(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}"#, data: [0, 0, 0, 0])
        #expect(exponent.error == .badField(path: exponent.path, tensor: "w", field: "data_offsets", reason: "expected [begin, end] integers"))
        let huge = try headerError(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#, data: [0, 0, 0, 0])
        #expect(huge.error == .badField(path: huge.path, tensor: "w", field: "data_offsets", reason: "integer out of range"))
        let repeated = try headerError(#"{"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        #expect(repeated.error == .badField(path: repeated.path, tensor: "w", field: "dtype", reason: "appears more than once"))
    }

    @Test func shapeProductOverflowingInt() throws {
        let elements = try headerError(#"{"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#)
        #expect(elements.error == .shapeOverflow(path: elements.path, tensor: "w"))
        // Elements fit in Int, bytes (× 8) do not.
        let bytes = try headerError(#"{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}"#)
        #expect(bytes.error == .shapeOverflow(path: bytes.path, tensor: "w"))
        let literal = try headerError(#"{"w":{"dtype":"U8","shape":[99999999999999999999],"data_offsets":[0,0]}}"#)
        #expect(literal.error == .shapeOverflow(path: literal.path, tensor: "w"))
    }
}
