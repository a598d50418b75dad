// All weights of a Hugging Face model folder, looked up by tensor name and served as f32.
// Uses model.safetensors if present, otherwise model.safetensors.index.json and its shards.

import Foundation
import T5Tensor

/// All weights of a Hugging Face model folder: `model.safetensors`, or a sharded `model.safetensors.index.json` + shards.
/// Sendable because it is immutable after init; tensors can be fetched from any thread.
public final class WeightStore: @unchecked Sendable {
    package static let singleFileName = "model.safetensors"
    package static let indexFileName = "model.safetensors.index.json"

    /// The model folder as given.
    public let directory: URL
    /// Sorted.
    public let tensorNames: [String]
    private let entries: [String: Entry]

    private struct Entry {
        let file: SafetensorsFile
        let info: TensorInfo
    }

    /// When both a single file and an index exist, the single file wins: that is what a folder holding a
    /// consolidated checkpoint next to a stale index most plausibly means, and it needs no cross-file checks.
    public init(directory: URL) throws {
        let directoryPath = directory.path
        guard FileSystemEntry.isPresent(directoryPath) else { throw WeightsError.fileNotFound(path: directoryPath) }
        guard FileSystemEntry.isDirectory(directoryPath) else { throw WeightsError.notAFile(path: directoryPath) }

        let single = directory.appendingPathComponent(Self.singleFileName)
        let index = directory.appendingPathComponent(Self.indexFileName)
        let entries: [String: Entry]
        if FileSystemEntry.isPresent(single.path) {
            entries = try Self.merge([try SafetensorsFile(url: single)])
        } else if FileSystemEntry.isPresent(index.path) {
            entries = try Self.loadShards(indexURL: index, directory: directory)
        } else {
            throw WeightsError.noWeightsFile(directory: directoryPath)
        }
        self.directory = directory
        self.entries = entries
        self.tensorNames = entries.keys.sorted()
    }

    /// The tensors of one safetensors file on its own (a PEFT adapter's `adapter_model.safetensors`); `directory`
    /// is the folder that holds it.
    public init(file url: URL) throws {
        guard FileSystemEntry.isPresent(url.path) else { throw WeightsError.fileNotFound(path: url.path) }
        guard !FileSystemEntry.isDirectory(url.path) else { throw WeightsError.notAFile(path: url.path) }
        entries = try Self.merge([try SafetensorsFile(url: url)])
        directory = url.deletingLastPathComponent()
        tensorNames = entries.keys.sorted()
    }

    /// Opens every shard the index names (each once, in name order) and checks each listed tensor is in its shard.
    /// Tensors a shard holds but the index does not list are still served, as transformers loads whole shards.
    /// Shards may be symlinks (the Hugging Face cache layout); only their names are restricted.
    private static func loadShards(indexURL: URL, directory: URL) throws -> [String: Entry] {
        let index = try ShardIndex.load(url: indexURL)
        var firstTensor: [String: String] = [:]
        for entry in index.entries where firstTensor[entry.shard] == nil {
            firstTensor[entry.shard] = entry.tensor
        }
        var shards: [String: SafetensorsFile] = [:]
        for (shard, tensor) in firstTensor.sorted(by: { $0.key < $1.key }) {
            let url = directory.appendingPathComponent(shard)
            do {
                shards[shard] = try SafetensorsFile(url: url)
            } catch WeightsError.fileNotFound {
                throw WeightsError.missingShard(path: indexURL.path, shard: shard, tensor: tensor)
            }
        }
        // A tensor in two shards is reported first: it explains an index/shard disagreement best.
        let entries = try merge(shards.keys.sorted().compactMap { shards[$0] })
        for listed in index.entries {
            guard let file = shards[listed.shard], file.tensors[listed.tensor] != nil else {
                let shardPath = directory.appendingPathComponent(listed.shard).path
                throw WeightsError.tensorNotInShard(path: shardPath, tensor: listed.tensor)
            }
        }
        return entries
    }

    /// One entry per tensor name across `files`; a name in two files is an error.
    private static func merge(_ files: [SafetensorsFile]) throws -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for file in files {
            for (name, info) in file.tensors {
                if let earlier = entries[name] {
                    throw WeightsError.tensorInTwoShards(tensor: name, first: earlier.file.url.path, second: file.url.path)
                }
                entries[name] = Entry(file: file, info: info)
            }
        }
        return entries
    }

    public func info(_ name: String) -> TensorInfo? {
        entries[name]?.info
    }

    public func contains(_ name: String) -> Bool {
        entries[name] != nil
    }

    /// The tensor as f32 with exactly `shape`. Little-endian F32 data aligned for Float is served in place
    /// (no copy); F16 and BF16 are widened, and misaligned F32 copied, into an owned buffer.
    public func floatTensor(_ name: String, shape: [Int]) throws -> FloatTensor {
        let entry = try entry(name)
        let info = entry.info
        guard info.shape == shape else {
            throw WeightsError.shapeMismatch(name: name, expected: shape, actual: info.shape, path: entry.file.url.path)
        }
        let bytes = entry.file.bytes(of: info)
        let count = info.elementCount
        let source: FloatWidening.Source
        switch info.dtype {
        case .f32:
            if let base = bytes.baseAddress, Self.hostIsLittleEndian,
               Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
                return FloatTensor(shape: shape, pointer: base.assumingMemoryBound(to: Float.self), count: count, owner: entry.file)
            }
            source = .f32
        case .f16:
            source = .f16
        case .bf16:
            source = .bf16
        default:
            throw WeightsError.unsupportedDType(name: name, dtype: info.dtype, path: entry.file.url.path)
        }
        let buffer = FloatWidening.widen(bytes, from: source, count: count)
        return FloatTensor(shape: shape, pointer: UnsafePointer(buffer.pointer), count: count, owner: buffer)
    }

    /// Raw bytes and info of a tensor of any dtype. The bytes point into the mapping and stay valid while this store is alive.
    public func rawTensor(_ name: String) throws -> (info: TensorInfo, bytes: UnsafeRawBufferPointer) {
        let entry = try entry(name)
        return (entry.info, entry.file.bytes(of: entry.info))
    }

    private func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            throw WeightsError.missingTensor(name: name, directory: directory.path)
        }
        return entry
    }

    /// safetensors data is little-endian; only then can f32 bytes be used as host Floats directly.
    private static let hostIsLittleEndian = 1.littleEndian == 1
}
