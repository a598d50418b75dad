// WeightStore over model folders: single file, sharded index (valid and broken), and tensor look-up errors.

import Foundation
import Testing
import T5Engine

@Suite struct WeightsStoreTests {
    private static let indexName = "model.safetensors.index.json"

    /// Writes an index whose weight_map is `map`, given as a JSON object body.
    private func writeIndex(_ weightMap: String, to dir: URL) throws {
        let json = #"{"metadata":{"total_size":24},"weight_map":{\#(weightMap)}}"#
        try WeightsFixtures.write(Array(json.utf8), to: dir, name: Self.indexName)
    }

    private func writeShard(_ name: String, tensor: String, values: [Float], to dir: URL) throws {
        let body = WeightsFixtures.singleF32(tensor, values)
        try WeightsFixtures.writeSafetensors(header: body.header, data: body.data, to: dir, name: name)
    }

    private func storeError(_ dir: URL) -> WeightsError? {
        do {
            _ = try WeightStore(directory: dir)
            return nil
        } catch {
            return error as? WeightsError
        }
    }

    @Test func validTwoShardFolder() throws {
        try WeightsFixtures.withTempDirectory { dir in
            try writeShard("model-00001-of-00002.safetensors", tensor: "enc.w", values: [1, 2], to: dir)
            let header = """
                {"dec.w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},\
                "dec.b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}}
                """
            try WeightsFixtures.writeSafetensors(
                header: header, data: WeightsFixtures.f32Bytes([3, 4, 5, 6]) + WeightsFixtures.u16Bytes([0x3F80, 0x4000]),
                to: dir, name: "model-00002-of-00002.safetensors")
            try writeIndex("""
                "enc.w":"model-00001-of-00002.safetensors",\
                "dec.w":"model-00002-of-00002.safetensors",\
                "dec.b":"model-00002-of-00002.safetensors"
                """, to: dir)

            let store = try WeightStore(directory: dir)
            #expect(store.tensorNames == ["dec.b", "dec.w", "enc.w"])
            #expect(try store.floatTensor("enc.w", shape: [2]).values == [1, 2])
            #expect(try store.floatTensor("dec.w", shape: [2, 2]).values == [3, 4, 5, 6])
            // Read straight off a temporary: `values` keeps the widened buffer alive while copying.
            #expect(try store.floatTensor("dec.b", shape: [2]).values == [1, 2])
            #expect(store.info("dec.b")?.dtype == .bf16)
        }
    }

    @Test func shardedIndexWithMissingShard() throws {
        try WeightsFixtures.withTempDirectory { dir in
            try writeShard("a.safetensors", tensor: "x", values: [1], to: dir)
            try writeIndex(#""x":"a.safetensors","y":"b.safetensors""#, to: dir)
            let indexPath = dir.appendingPathComponent(Self.indexName).path
            #expect(storeError(dir) == .missingShard(path: indexPath, shard: "b.safetensors", tensor: "y"))
        }
    }

    @Test func shardNamesCannotLeaveTheFolder() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let indexPath = dir.appendingPathComponent(Self.indexName).path
            for shard in ["../model.safetensors", "sub/a.safetensors", "/etc/passwd", "..", ""] {
                try writeIndex(#""x":"\#(shard)""#, to: dir)
                #expect(storeError(dir) == .badShardName(path: indexPath, tensor: "x", shard: shard))
            }
        }
    }

    @Test func tensorInTwoShards() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let first = dir.appendingPathComponent("a.safetensors").path
            let second = dir.appendingPathComponent("b.safetensors").path
            try writeShard("a.safetensors", tensor: "x", values: [1], to: dir)
            try writeShard("b.safetensors", tensor: "x", values: [2], to: dir)
            try writeIndex(#""x":"a.safetensors","other":"b.safetensors""#, to: dir)
            #expect(storeError(dir) == .tensorInTwoShards(tensor: "x", first: first, second: second))
        }
    }

    @Test func tensorListedInTheWrongShard() throws {
        try WeightsFixtures.withTempDirectory { dir in
            try writeShard("a.safetensors", tensor: "x", values: [1], to: dir)
            try writeShard("b.safetensors", tensor: "y", values: [2], to: dir)
            try writeIndex(#""x":"b.safetensors","y":"a.safetensors""#, to: dir)
            let shardPath = dir.appendingPathComponent("b.safetensors").path
            #expect(storeError(dir) == .tensorNotInShard(path: shardPath, tensor: "x"))
        }
    }

    @Test func brokenIndexFiles() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let indexURL = dir.appendingPathComponent(Self.indexName)
            try WeightsFixtures.write(Array(#"{"weight_map":"#.utf8), to: dir, name: Self.indexName)
            #expect(storeError(dir) == .indexNotJSON(path: indexURL.path, reason: "unexpected end of input at byte 14"))

            try WeightsFixtures.write(Array(#"{"metadata":{}}"#.utf8), to: dir, name: Self.indexName)
            #expect(storeError(dir) == .badIndex(path: indexURL.path, reason: #"no "weight_map""#))

            try WeightsFixtures.write(Array(#"{"weight_map":{"x":"a","x":"b"}}"#.utf8), to: dir, name: Self.indexName)
            #expect(storeError(dir) == .badIndex(path: indexURL.path, reason: #"tensor "x" is listed more than once"#))

            try WeightsFixtures.write(Array(#"{"weight_map":{"x":1}}"#.utf8), to: dir, name: Self.indexName)
            #expect(storeError(dir) == .badIndex(path: indexURL.path, reason: #"shard of "x" is a number, not a string"#))
        }
    }

    @Test func singleFileIsPreferredOverIndex() throws {
        try WeightsFixtures.withTempDirectory { dir in
            try writeShard("model.safetensors", tensor: "w", values: [9], to: dir)
            try WeightsFixtures.write(Array("not json".utf8), to: dir, name: Self.indexName)
            let store = try WeightStore(directory: dir)
            #expect(store.tensorNames == ["w"])
        }
    }

    @Test func folderWithoutWeights() throws {
        try WeightsFixtures.withTempDirectory { dir in
            try WeightsFixtures.write(Array("{}".utf8), to: dir, name: "config.json")
            #expect(storeError(dir) == .noWeightsFile(directory: dir.path))
            let missing = dir.appendingPathComponent("absent")
            #expect(storeError(missing) == .fileNotFound(path: missing.path))
            let file = dir.appendingPathComponent("config.json")
            #expect(storeError(file) == .notAFile(path: file.path))
        }
    }

    @Test func missingTensorShapeMismatchAndUnsupportedDType() throws {
        try WeightsFixtures.withTempDirectory { dir in
            let header = """
                {"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},\
                "ids":{"dtype":"I64","shape":[1],"data_offsets":[24,32]}}
                """
            let url = try WeightsFixtures.writeSafetensors(
                header: header, data: WeightsFixtures.f32Bytes([1, 2, 3, 4, 5, 6]) + [7, 0, 0, 0, 0, 0, 0, 0], to: dir)
            let store = try WeightStore(directory: dir)

            #expect(throws: WeightsError.missingTensor(name: "v", directory: dir.path)) {
                try store.floatTensor("v", shape: [2, 3])
            }
            #expect(throws: WeightsError.missingTensor(name: "v", directory: dir.path)) { try store.rawTensor("v") }
            #expect(store.info("v") == nil && !store.contains("v"))
            #expect(throws: WeightsError.shapeMismatch(name: "w", expected: [3, 2], actual: [2, 3], path: url.path)) {
                try store.floatTensor("w", shape: [3, 2])
            }
            #expect(throws: WeightsError.unsupportedDType(name: "ids", dtype: .i64, path: url.path)) {
                try store.floatTensor("ids", shape: [1])
            }
            // The raw bytes of any dtype are still available.
            let raw = try store.rawTensor("ids")
            #expect(raw.info.dtype == .i64 && Array(raw.bytes) == [7, 0, 0, 0, 0, 0, 0, 0])
        }
    }
}
