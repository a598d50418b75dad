// Writes one .safetensors file: header padded so the data starts 64-byte aligned, tensors streamed one at a time.
import Foundation

package struct SafetensorsWriter {
    package struct Entry {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
    }

    /// Writes `entries` in order to `url`; `fill(entry, buffer)` provides each tensor's bytes into a buffer of its size.
    /// Callers order entries so that wider elements come first: each tensor then starts aligned for its element type.
    package static func write(
        to url: URL, entries: [Entry], metadata: [String: String],
        fill: (Entry, UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        var header = "{\"__metadata__\":{"
        header += metadata.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            header += ",\(quoted(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}"
            offset += e.byteCount
        }
        header += "}"
        // Spaces after the JSON are allowed by the format; they put the data section on a 64-byte boundary.
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 64 != 0 { headerBytes.append(0x20) }

        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ConvertError.io(path: url.path, reason: "cannot create the file")
        }
        let handle: FileHandle
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw ConvertError.io(path: url.path, reason: "\(error)")
        }
        defer { try? handle.close() }
        do {
            var length = UInt64(headerBytes.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: Data(headerBytes))
            for e in entries {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, e.byteCount), alignment: 64)
                defer { buffer.deallocate() }
                let view = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<e.byteCount])
                try fill(e, view)
                try handle.write(contentsOf: Data(bytesNoCopy: buffer.baseAddress!, count: e.byteCount, deallocator: .none))
            }
            try handle.synchronize()
        } catch let error as ConvertError {
            throw error
        } catch {
            throw ConvertError.io(path: url.path, reason: "\(error)")
        }
    }

    /// A JSON string literal; tensor names are plain ASCII in practice, but quotes and controls are escaped anyway.
    private static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
