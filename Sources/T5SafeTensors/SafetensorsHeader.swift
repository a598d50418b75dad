// Turns the raw header bytes of a .safetensors file into validated tensor infos and metadata.
// Every check happens here, before any tensor data is touched.

package struct SafetensorsHeader {
    /// Headers above this are rejected, as the Rust `safetensors` crate does (MAX_HEADER_SIZE).
    package static let maxHeaderLength: UInt64 = 100_000_000
    package static let metadataKey = "__metadata__"

    package let tensors: [String: TensorInfo]
    package let metadata: [String: String]

    /// `dataSize` is the number of bytes after the header; offsets are checked against it.
    package static func parse(
        _ headerBytes: UnsafeRawBufferPointer, dataSize: Int, path: String
    ) throws(WeightsError) -> SafetensorsHeader {
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw .headerNotUTF8(path: path)
        }
        let root: JSONValue
        do {
            root = try StrictJSONParser.parse(Array(headerBytes))
        } catch {
            throw .headerNotJSON(path: path, reason: error.description)
        }
        guard case .object(let members) = root else { throw .headerNotObject(path: path) }

        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        var seen = Set<String>()
        for member in members {
            // Checked before anything else so a repeated name is reported as such, whatever its contents.
            guard seen.insert(member.key).inserted else {
                throw .duplicateTensor(path: path, name: member.key)
            }
            if member.key == metadataKey {
                metadata = try parseMetadata(member.value, path: path)
            } else {
                let entry = TensorEntry(name: member.key, path: path, dataSize: dataSize)
                tensors[member.key] = try entry.parse(member.value)
            }
        }
        try SafetensorsLayout.validateCoverage(of: Array(tensors.values), dataSize: dataSize, path: path)
        return SafetensorsHeader(tensors: tensors, metadata: metadata)
    }

    /// An object of string to string. `null` counts as absent, as it does for the Rust crate (an Option field).
    private static func parseMetadata(_ value: JSONValue, path: String) throws(WeightsError) -> [String: String] {
        switch value {
        case .null:
            return [:]
        case .object(let members):
            var result: [String: String] = [:]
            for member in members {
                guard case .string(let text) = member.value else {
                    throw .badMetadata(path: path, reason: "value of \"\(member.key)\" is \(member.value.kindName), not a string")
                }
                guard result.updateValue(text, forKey: member.key) == nil else {
                    throw .badMetadata(path: path, reason: "key \"\(member.key)\" appears more than once")
                }
            }
            return result
        default:
            throw .badMetadata(path: path, reason: "expected an object, found \(value.kindName)")
        }
    }
}
