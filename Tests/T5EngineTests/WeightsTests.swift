// Loading valid safetensors files: values of every readable dtype, zero-copy mapping, metadata, edge shapes.
// Error paths live in WeightsHeaderErrorTests, WeightsLayoutErrorTests and WeightsStoreTests.

import Foundation
import Testing
@testable import T5Engine

@Suite struct WeightsTests {
    // F32 [2] at 0..<8, F16 [3,3] at 8..<26, BF16 [5] at 26..<36.
    static let f16Bits: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x7E01]
    static let f16Expected: [UInt32] = [
        Float(1).bitPattern, Float(-2).bitPattern,
        Float(0x1p-24).bitPattern,  // smallest subnormal
        Float(1023 * 0x1p-24).bitPattern,  // largest subnormal
        Float(65504).bitPattern,
        Float.infinity.bitPattern, (-Float.infinity).bitPattern,
        0x8000_0000,  // -0
        0x7FC0_2000,  // quiet NaN, payload kept
    ]
    static let bf16Bits: [UInt16] = [0x3F80, 0xC040, 0x0001, 0x7F80, 0xFFC1]
    static let bf16Expected: [UInt32] = [
        Float(1).bitPattern, Float(-3).bitPattern,
        0x0001_0000,  // bf16 subnormal 2^-133
        Float.infinity.bitPattern, 0xFFC1_0000,
    ]
    static let mixedHeader = """
        {"__metadata__":{"format":"pt"},\
        "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
        "h":{"dtype":"F16","shape":[3,3],"data_offsets":[8,26]},\
        "b":{"dtype":"BF16","shape":[5],"data_offsets":[26,36]}}
        """
    static let mixedData = WeightsFixtures.f32Bytes([1.5, -0.25])
        + WeightsFixtures.u16Bytes(f16Bits) + WeightsFixtures.u16Bytes(bf16Bits)

    @Test func parsesHeaderOfMixedFile() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let url = try WeightsFixtures.writeSafetensors(header: Self.mixedHeader, data: Self.mixedData, to: dir)
            let file = try SafetensorsFile(url: url)
            #expect(file.metadata == ["format": "pt"])
            #expect(Set(file.tensors.keys) == ["a", "h", "b"])
            #expect(file.tensors["h"] == TensorInfo(name: "h", dtype: .f16, shape: [3, 3], dataOffsets: 8..<26))
            #expect(file.tensors["h"]?.elementCount == 9)
            let raw = try #require(file.tensors["b"].map { file.bytes(of: $0) })
            #expect(Array(raw) == WeightsFixtures.u16Bytes(Self.bf16Bits))
        }
    }

    @Test func widensF32F16AndBF16Exactly() throws {
        try WeightsFixtures.withTempDirectory { dir in
            try WeightsFixtures.writeSafetensors(header: Self.mixedHeader, data: Self.mixedData, to: dir)
            let store = try WeightStore(directory: dir)
            #expect(store.tensorNames == ["a", "b", "h"])
            #expect(store.contains("h") && !store.contains("__metadata__"))

            let a = try store.floatTensor("a", shape: [2])
            #expect(a.values == [1.5, -0.25])
            let h = try store.floatTensor("h", shape: [3, 3])
            #expect(h.shape == [3, 3] && h.count == 9)
            #expect(h.values.map(\.bitPattern) == Self.f16Expected)
            let b = try store.floatTensor("b", shape: [5])
            #expect(b.values.map(\.bitPattern) == Self.bf16Expected)
        }
    }

    @Test func alignedF32IsServedFromTheMapping() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let body = WeightsFixtures.singleF32("w", [1, 2, 3, 4])
            try WeightsFixtures.writeSafetensors(header: body.header, data: body.data, to: dir)
            let store = try WeightStore(directory: dir)
            let tensor = try store.floatTensor("w", shape: [4])
            let raw = try store.rawTensor("w")
            #expect(UnsafeRawPointer(tensor.pointer) == raw.bytes.baseAddress)
            #expect(tensor.values == [1, 2, 3, 4])
        }
    }

    @Test func misalignedF32IsCopied() throws {
        try WeightsFixtures.withTempDirectory { dir in
            // A 1-byte U8 tensor first puts the F32 data at an odd address.
            let header = """
                {"pad":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},\
                "w":{"dtype":"F32","shape":[2,2],"data_offsets":[1,17]}}
                """
            try WeightsFixtures.writeSafetensors(
                header: header, data: [7] + WeightsFixtures.f32Bytes([1, -2, 3.5, .infinity]), to: dir)
            let store = try WeightStore(directory: dir)
            let tensor = try store.floatTensor("w", shape: [2, 2])
            let raw = try store.rawTensor("w")
            #expect(UnsafeRawPointer(tensor.pointer) != raw.bytes.baseAddress)
            #expect(Int(bitPattern: tensor.pointer) % MemoryLayout<Float>.alignment == 0)
            #expect(tensor.values == [1, -2, 3.5, .infinity])
        }
    }

    @Test func tensorsOutliveTheirStore() throws {
        let (mapped, widened) = try WeightsFixtures.withTempDirectory { dir in
            try WeightsFixtures.writeSafetensors(header: Self.mixedHeader, data: Self.mixedData, to: dir)
            let store = try WeightStore(directory: dir)
            return (try store.floatTensor("a", shape: [2]), try store.floatTensor("b", shape: [5]))
        }
        // The store and the directory are gone; the tensors keep the mapping / buffer alive.
        #expect(mapped.values == [1.5, -0.25])
        #expect(widened.values.map(\.bitPattern) == Self.bf16Expected)
    }

    @Test func headerOnlyFileHasNoTensors() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let url = try WeightsFixtures.writeSafetensors(header: "{}", data: [], to: dir)
            let file = try SafetensorsFile(url: url)
            #expect(file.tensors.isEmpty && file.metadata.isEmpty)
            let store = try WeightStore(directory: dir)
            #expect(store.tensorNames.isEmpty)
        }
    }

    @Test func scalarAndZeroSizeTensors() throws {
        try WeightsFixtures.withTempDirectory { dir in
            // Zero-byte tensors may sit anywhere in the data section, even inside another tensor's range:
            // they occupy no bytes (a deliberate relaxation of the Rust crate, see SafetensorsLayout).
            let header = """
                {"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},\
                "e0":{"dtype":"F32","shape":[0],"data_offsets":[2,2]},\
                "e1":{"dtype":"F16","shape":[3,0,2],"data_offsets":[4,4]}}
                """
            try WeightsFixtures.writeSafetensors(header: header, data: WeightsFixtures.f32Bytes([42]), to: dir)
            let store = try WeightStore(directory: dir)
            #expect(store.info("s")?.elementCount == 1)
            let scalar = try store.floatTensor("s", shape: [])
            #expect(scalar.count == 1 && scalar.pointer.pointee == 42)
            #expect(try store.floatTensor("e0", shape: [0]).count == 0)
            #expect(try store.floatTensor("e1", shape: [3, 0, 2]).count == 0)
        }
    }

    @Test func toleratesNullMetadataAndUnknownEntryFields() throws {
        try WeightsFixtures.withTempDirectory { dir in
            // Both accepted by the Rust crate: __metadata__ is an Option, TensorInfo ignores extra fields.
            let header = #"{"__metadata__":null,"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":[1,{}]}}"#
            let url = try WeightsFixtures.writeSafetensors(header: header, data: WeightsFixtures.f32Bytes([5]), to: dir)
            let file = try SafetensorsFile(url: url)
            #expect(file.metadata.isEmpty && file.tensors.count == 1)
        }
    }

    @Test func headerWithoutPaddingAndWithEscapedNames() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let header = #"{"caf\u00e9.w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
            try WeightsFixtures.writeSafetensors(
                header: header, data: [1, 0, 0, 0, 0, 0, 0, 0], to: dir, padToEight: false)
            let store = try WeightStore(directory: dir)
            let raw = try store.rawTensor("café.w")
            #expect(raw.info.dtype == .i64 && Array(raw.bytes) == [1, 0, 0, 0, 0, 0, 0, 0])
        }
    }

    @Test func everyDTypeParsesWithItsSize() throws {
        #expect(SafetensorsDType.allCases.count == 15)
        try WeightsFixtures.withTempDirectory { dir in
            var entries: [String] = []
            var offset = 0
            for dtype in SafetensorsDType.allCases {
                entries.append(#""\#(dtype.rawValue)":{"dtype":"\#(dtype.rawValue)","shape":[2],"data_offsets":[\#(offset),\#(offset + 2 * dtype.byteSize)]}"#)
                offset += 2 * dtype.byteSize
            }
            let url = try WeightsFixtures.writeSafetensors(
                header: "{" + entries.joined(separator: ",") + "}", data: Array(repeating: 0, count: offset), to: dir)
            let file = try SafetensorsFile(url: url)
            for dtype in SafetensorsDType.allCases {
                #expect(file.tensors[dtype.rawValue]?.dtype == dtype)
                #expect(file.tensors[dtype.rawValue]?.dataOffsets.count == 2 * dtype.byteSize)
            }
        }
    }

    #if !(os(macOS) && arch(x86_64))  // Float16 is unavailable there.
    @Test func f16ConversionMatchesFloat16ForAllBitPatterns() {
        var mismatches = 0
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = FloatWidening.float(fromF16: bits)
            // NaN payloads: compare bits where the hardware conversion keeps them, otherwise just NaN-ness.
            if expected.isNaN ? !actual.isNaN : expected.bitPattern != actual.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #endif

    @Test func floatTensorFromValues() throws {
        let tensor = try #require(FloatTensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        #expect(tensor.count == 6 && tensor.values == [1, 2, 3, 4, 5, 6])
        #expect(FloatTensor(shape: [2, 3], values: [1]) == nil)
        #expect(FloatTensor(shape: [-1, -1], values: [1]) == nil)
        #expect(FloatTensor(shape: [], values: [7])?.count == 1)
    }

    @Test func errorDescriptionsAreOneLineAndNameTheFile() {
        let errors: [WeightsError] = [
            .sizeMismatch(path: "/m/model.safetensors", tensor: "t", expectedBytes: 12, actualBytes: 8),
            .headerNotJSON(path: "/m/model.safetensors", reason: "unexpected end of input at byte 5"),
            .shapeMismatch(name: "t", expected: [2], actual: [3], path: "/m/model.safetensors"),
            .trailingBytes(path: "/m/model.safetensors", dataEnd: 4, dataSize: 8),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("/m/model.safetensors"))
        }
    }
}
