// Every way loading a checkpoint can fail; each case names the file (and tensor, when there is one).
// Paths are kept as strings so errors stay Equatable and print exactly what the user passed.

public enum WeightsError: Error, Equatable, CustomStringConvertible {
    // Opening and mapping a file.
    case fileNotFound(path: String)
    case notAFile(path: String)
    case unreadable(path: String, reason: String)

    // The 8-byte length prefix and the JSON header.
    case tooShort(path: String, byteCount: Int)
    case headerTooLarge(path: String, headerLength: UInt64)
    case headerExceedsFile(path: String, headerLength: UInt64, fileSize: Int)
    case headerNotUTF8(path: String)
    case headerNotJSON(path: String, reason: String)
    case headerNotObject(path: String)
    case badMetadata(path: String, reason: String)
    case duplicateTensor(path: String, name: String)

    // One tensor entry of the header.
    case badEntry(path: String, tensor: String)
    case missingField(path: String, tensor: String, field: String)
    case badField(path: String, tensor: String, field: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case shapeOverflow(path: String, tensor: String)
    case badOffsets(path: String, tensor: String, begin: Int, end: Int)
    case offsetsBeyondData(path: String, tensor: String, end: Int, dataSize: Int)
    case sizeMismatch(path: String, tensor: String, expectedBytes: Int, actualBytes: Int)

    // How the tensors tile the data section.
    case overlappingTensors(path: String, first: String, second: String)
    case dataGap(path: String, begin: Int, end: Int)
    case trailingBytes(path: String, dataEnd: Int, dataSize: Int)

    // A model folder and its shard index.
    case noWeightsFile(directory: String)
    case indexNotJSON(path: String, reason: String)
    case badIndex(path: String, reason: String)
    case badShardName(path: String, tensor: String, shard: String)
    case missingShard(path: String, shard: String, tensor: String)
    case tensorNotInShard(path: String, tensor: String)
    case tensorInTwoShards(tensor: String, first: String, second: String)

    // Asking a WeightStore for a tensor.
    case missingTensor(name: String, directory: String)
    case shapeMismatch(name: String, expected: [Int], actual: [Int], path: String)
    case unsupportedDType(name: String, dtype: SafetensorsDType, path: String)
    /// A NaN or infinity where the loader checks (layer norms and position-bias tables: small, so cheap).
    case nonFiniteValues(name: String, index: Int, directory: String)
    /// int8 activations (W8A8) were asked of a checkpoint with no int8 matrix to use them.
    case int8ActivationsNeedInt8Weights(directory: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            "\(path): no such file"
        case let .notAFile(path):
            "\(path): not a regular file"
        case let .unreadable(path, reason):
            "\(path): cannot read: \(reason)"
        case let .tooShort(path, byteCount):
            "\(path): \(byteCount) bytes, too short for a safetensors file (needs an 8-byte header length)"
        case let .headerTooLarge(path, headerLength):
            "\(path): header length \(headerLength) exceeds the 100 MB limit (not a safetensors file?)"
        case let .headerExceedsFile(path, headerLength, fileSize):
            "\(path): header length \(headerLength) runs past the end of the \(fileSize)-byte file"
        case let .headerNotUTF8(path):
            "\(path): header is not valid UTF-8"
        case let .headerNotJSON(path, reason):
            "\(path): header is not valid JSON: \(reason)"
        case let .headerNotObject(path):
            "\(path): header is not a JSON object"
        case let .badMetadata(path, reason):
            "\(path): bad __metadata__: \(reason)"
        case let .duplicateTensor(path, name):
            "\(path): header lists \"\(name)\" more than once"
        case let .badEntry(path, tensor):
            "\(path): tensor \"\(tensor)\": header entry is not a JSON object"
        case let .missingField(path, tensor, field):
            "\(path): tensor \"\(tensor)\": missing field \"\(field)\""
        case let .badField(path, tensor, field, reason):
            "\(path): tensor \"\(tensor)\": bad field \"\(field)\": \(reason)"
        case let .unknownDType(path, tensor, dtype):
            "\(path): tensor \"\(tensor)\": unknown dtype \"\(dtype)\""
        case let .shapeOverflow(path, tensor):
            "\(path): tensor \"\(tensor)\": shape size overflows"
        case let .badOffsets(path, tensor, begin, end):
            "\(path): tensor \"\(tensor)\": invalid data_offsets [\(begin), \(end)]"
        case let .offsetsBeyondData(path, tensor, end, dataSize):
            "\(path): tensor \"\(tensor)\": data ends at byte \(end) but the data section has only \(dataSize) bytes (truncated file?)"
        case let .sizeMismatch(path, tensor, expectedBytes, actualBytes):
            "\(path): tensor \"\(tensor)\": shape and dtype need \(expectedBytes) bytes but data_offsets span \(actualBytes)"
        case let .overlappingTensors(path, first, second):
            "\(path): tensors \"\(first)\" and \"\(second)\" overlap"
        case let .dataGap(path, begin, end):
            "\(path): data bytes [\(begin), \(end)) belong to no tensor"
        case let .trailingBytes(path, dataEnd, dataSize):
            "\(path): \(dataSize - dataEnd) bytes after the last tensor (data ends at \(dataEnd) of \(dataSize))"
        case let .noWeightsFile(directory):
            "\(directory): no model.safetensors or model.safetensors.index.json"
        case let .indexNotJSON(path, reason):
            "\(path): shard index is not valid JSON: \(reason)"
        case let .badIndex(path, reason):
            "\(path): bad shard index: \(reason)"
        case let .badShardName(path, tensor, shard):
            "\(path): tensor \"\(tensor)\": shard \"\(shard)\" is not a plain file name in the model folder"
        case let .missingShard(path, shard, tensor):
            "\(path): shard \"\(shard)\" (for tensor \"\(tensor)\") does not exist"
        case let .tensorNotInShard(path, tensor):
            "\(path): tensor \"\(tensor)\" is not in this shard although the index says so"
        case let .tensorInTwoShards(tensor, first, second):
            "tensor \"\(tensor)\" is in two shards: \(first) and \(second)"
        case let .missingTensor(name, directory):
            "\(directory): no tensor \"\(name)\""
        case let .shapeMismatch(name, expected, actual, path):
            "\(path): tensor \"\(name)\": expected shape \(expected), found \(actual)"
        case let .nonFiniteValues(name, index, directory):
            "\(directory): tensor \"\(name)\" holds NaN or infinity (element \(index)): the checkpoint is corrupt"
        case let .int8ActivationsNeedInt8Weights(directory):
            "\(directory): int8 activations need int8 weights, and this model has none; convert it first (t5 convert --dtype int8)"
        case let .unsupportedDType(name, dtype, path):
            "\(path): tensor \"\(name)\": dtype \(dtype.rawValue) cannot be read as f32"
        }
    }
}
