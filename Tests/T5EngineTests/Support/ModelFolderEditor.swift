// Copies a fixture model folder into a temporary directory with edits: tensors dropped, reshaped or
// poisoned, config fields changed. For tests of how the loader handles broken checkpoints.
import Foundation
@testable import T5Engine

struct EditableTensor {
    var shape: [Int]
    var values: [Float]
}

enum ModelFolderEditor {
    /// Every tensor of a fixture model, widened to f32.
    static func tensors(of name: String) throws -> [String: EditableTensor] {
        let store = try WeightStore(directory: Fixtures.modelDirectory(name))
        var out: [String: EditableTensor] = [:]
        for n in store.tensorNames {
            let info = store.info(n)!
            out[n] = EditableTensor(shape: info.shape, values: try store.floatTensor(n, shape: info.shape).values)
        }
        return out
    }

    /// Writes an F32 safetensors file holding `tensors`, laid out back to back in name order.
    static func writeSafetensors(_ tensors: [String: EditableTensor], to url: URL) throws {
        var header: [String] = []
        var data: [UInt8] = []
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            let begin = data.count
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(t.shape),\"data_offsets\":[\(begin),\(data.count)]}")
        }
        var json = Array(("{" + header.joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += json + data
        try Data(bytes).write(to: url)
    }

    /// A temporary copy of fixture `name` after `editTensors` and `editConfig`; removed after `body`.
    @discardableResult
    static func withEditedCopy<T>(
        of name: String, editTensors: (inout [String: EditableTensor]) -> Void = { _ in },
        editConfig: (inout [String: Any]) -> Void = { _ in }, _ body: (URL) throws -> T
    ) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5-edited-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var tensors = try tensors(of: name)
        editTensors(&tensors)
        try writeSafetensors(tensors, to: dir.appendingPathComponent("model.safetensors"))
        let configData = try Data(contentsOf: Fixtures.modelDirectory(name).appendingPathComponent("config.json"))
        var config = try JSONSerialization.jsonObject(with: configData) as! [String: Any]
        editConfig(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        return try body(dir)
    }
}
