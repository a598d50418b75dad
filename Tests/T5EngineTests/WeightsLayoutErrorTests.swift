// Rejection of data_offsets that are invalid, disagree with shape × dtype, overlap, leave holes or trailing bytes.
// Holes and trailing bytes are errors, as in the Rust `safetensors` crate (see SafetensorsLayout for the source).

import Foundation
import Testing
import T5Engine

@Suite struct WeightsLayoutErrorTests {
    private func headerError(_ header: String, dataCount: Int) throws -> (error: WeightsError?, path: String) {
        try WeightsFixtures.withTempDirectory { dir in
            let url = try WeightsFixtures.writeSafetensors(
                header: header, data: Array(repeating: 0, count: dataCount), to: dir)
            do {
                _ = try SafetensorsFile(url: url)
                return (nil, url.path)
            } catch {
                return (error as? WeightsError, url.path)
            }
        }
    }

    private func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":[\#(begin),\#(end)]}"#
    }

    @Test func negativeOffsets() throws {
        let result = try headerError("{" + entry("w", "F32", [1], -4, 0) + "}", dataCount: 4)
        #expect(result.error == .badOffsets(path: result.path, tensor: "w", begin: -4, end: 0))
    }

    @Test func reversedOffsets() throws {
        let result = try headerError("{" + entry("w", "F32", [1], 8, 4) + "}", dataCount: 8)
        #expect(result.error == .badOffsets(path: result.path, tensor: "w", begin: 8, end: 4))
    }

    @Test func offsetsBeyondTheDataSection() throws {
        let result = try headerError("{" + entry("w", "F32", [100], 0, 400) + "}", dataCount: 8)
        #expect(result.error == .offsetsBeyondData(path: result.path, tensor: "w", end: 400, dataSize: 8))
    }

    @Test func offsetsDisagreeingWithShapeAndDType() throws {
        let result = try headerError("{" + entry("w", "F32", [3], 0, 8) + "}", dataCount: 8)
        #expect(result.error == .sizeMismatch(path: result.path, tensor: "w", expectedBytes: 12, actualBytes: 8))
        let bf16 = try headerError("{" + entry("w", "BF16", [2, 2], 0, 16) + "}", dataCount: 16)
        #expect(bf16.error == .sizeMismatch(path: bf16.path, tensor: "w", expectedBytes: 8, actualBytes: 16))
    }

    @Test func overlappingTensors() throws {
        let header = "{" + entry("b", "F32", [2], 4, 12) + "," + entry("a", "F32", [2], 0, 8) + "}"
        let result = try headerError(header, dataCount: 12)
        #expect(result.error == .overlappingTensors(path: result.path, first: "a", second: "b"))
        let same = "{" + entry("x", "F32", [1], 0, 4) + "," + entry("y", "I32", [1], 0, 4) + "}"
        let sameResult = try headerError(same, dataCount: 4)
        #expect(sameResult.error == .overlappingTensors(path: sameResult.path, first: "x", second: "y"))
    }

    @Test func holeBetweenTensorsIsRejected() throws {
        let header = "{" + entry("a", "F32", [1], 0, 4) + "," + entry("b", "F32", [1], 8, 12) + "}"
        let result = try headerError(header, dataCount: 12)
        #expect(result.error == .dataGap(path: result.path, begin: 4, end: 8))
        let leading = try headerError("{" + entry("a", "F32", [1], 4, 8) + "}", dataCount: 8)
        #expect(leading.error == .dataGap(path: leading.path, begin: 0, end: 4))
    }

    @Test func trailingBytesAfterLastTensorAreRejected() throws {
        let result = try headerError("{" + entry("a", "F32", [1], 0, 4) + "}", dataCount: 8)
        #expect(result.error == .trailingBytes(path: result.path, dataEnd: 4, dataSize: 8))
        let noTensors = try headerError("{}", dataCount: 3)
        #expect(noTensors.error == .trailingBytes(path: noTensors.path, dataEnd: 0, dataSize: 3))
    }

    @Test func fileTruncatedInTheMiddleOfTheData() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let header = "{" + entry("a", "F32", [2], 0, 8) + "," + entry("b", "F32", [4], 8, 24) + "}"
            let whole = WeightsFixtures.safetensors(header: header, data: WeightsFixtures.f32Bytes([1, 2, 3, 4, 5, 6]))
            let url = try WeightsFixtures.write(Array(whole.dropLast(6)), to: dir)
            #expect(throws: WeightsError.offsetsBeyondData(path: url.path, tensor: "b", end: 24, dataSize: 18)) {
                try SafetensorsFile(url: url)
            }
            // Cut inside the header instead: its length field now runs past the end.
            let headerCut = try WeightsFixtures.write(Array(whole.prefix(20)), to: dir)
            let headerLength = UInt64(whole.count - 8 - 24)
            #expect(throws: WeightsError.headerExceedsFile(path: headerCut.path, headerLength: headerLength, fileSize: 20)) {
                try SafetensorsFile(url: headerCut)
            }
        }
    }
}
