// Reads model.safetensors.index.json: which shard file holds each tensor.
// Shard names must be plain file names in the model folder, so an index cannot point outside it.

import Foundation

package struct ShardIndex {
    package struct Entry: Equatable {
        let tensor: String
        let shard: String
    }

    /// In file order.
    package let entries: [Entry]

    package static func load(url: URL) throws(WeightsError) -> ShardIndex {
        let path = url.path
        let file: MappedFile
        do {
            file = try MappedFile(url: url)
        } catch let error as WeightsError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        guard UInt64(file.byteCount) <= SafetensorsHeader.maxHeaderLength else {
            throw .badIndex(path: path, reason: "file is larger than 100 MB")
        }
        guard String(validating: file.bytes, as: UTF8.self) != nil else {
            throw .indexNotJSON(path: path, reason: "not valid UTF-8")
        }
        let root: JSONValue
        do {
            root = try StrictJSONParser.parse(Array(file.bytes))
        } catch {
            throw .indexNotJSON(path: path, reason: error.description)
        }
        return ShardIndex(entries: try weightMapEntries(root, path: path))
    }

    private static func weightMapEntries(_ root: JSONValue, path: String) throws(WeightsError) -> [Entry] {
        guard case .object(let members) = root else {
            throw .badIndex(path: path, reason: "top level is \(root.kindName), not an object")
        }
        let maps = members.filter { $0.key == "weight_map" }
        guard maps.count == 1 else {
            throw .badIndex(path: path, reason: maps.isEmpty ? "no \"weight_map\"" : "\"weight_map\" appears more than once")
        }
        guard case .object(let mapMembers) = maps[0].value else {
            throw .badIndex(path: path, reason: "\"weight_map\" is \(maps[0].value.kindName), not an object")
        }
        var entries: [Entry] = []
        var seen = Set<String>()
        for member in mapMembers {
            guard case .string(let shard) = member.value else {
                throw .badIndex(path: path, reason: "shard of \"\(member.key)\" is \(member.value.kindName), not a string")
            }
            guard seen.insert(member.key).inserted else {
                throw .badIndex(path: path, reason: "tensor \"\(member.key)\" is listed more than once")
            }
            guard isPlainFileName(shard) else {
                throw .badShardName(path: path, tensor: member.key, shard: shard)
            }
            entries.append(Entry(tensor: member.key, shard: shard))
        }
        return entries
    }

    /// Non-empty, not "." or "..", no path separator or NUL: it names an entry directly in the folder.
    package static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".."
            && !name.contains("/") && !name.contains("\\") && !name.contains("\u{0}")
    }
}
