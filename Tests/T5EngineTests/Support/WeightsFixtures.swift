// Builds safetensors files and model folders byte by byte for the Weights tests.
// Everything goes into a fresh temporary directory that is removed when the test body returns.

import Foundation

enum WeightsFixtures {
    /// Runs `body` with a new empty directory, removed afterwards whatever happens.
    static func withTempDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("t5-weights-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }

    /// 8-byte little-endian length, header, data. With `padToEight` the header gets trailing spaces
    /// so the data section starts 8-aligned, as the Rust writer does.
    static func safetensors(header: String, data: [UInt8], padToEight: Bool = true) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        if padToEight {
            while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        }
        return littleEndian(UInt64(headerBytes.count)) + headerBytes + data
    }

    @discardableResult
    static func write(_ bytes: [UInt8], to directory: URL, name: String = "model.safetensors") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    @discardableResult
    static func writeSafetensors(
        header: String, data: [UInt8], to directory: URL, name: String = "model.safetensors", padToEight: Bool = true
    ) throws -> URL {
        try write(safetensors(header: header, data: data, padToEight: padToEight), to: directory, name: name)
    }

    /// A file with raw header bytes (for non-UTF-8 headers) and an explicit length field.
    @discardableResult
    static func writeRaw(lengthField: UInt64, header: [UInt8], data: [UInt8] = [], to directory: URL) throws -> URL {
        try write(littleEndian(lengthField) + header + data, to: directory)
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func f32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
    }

    static func u16Bytes(_ values: [UInt16]) -> [UInt8] {
        values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
    }

    /// A one-tensor F32 file body: header entry `name` of `values.count` elements at offset 0.
    static func singleF32(_ name: String, _ values: [Float]) -> (header: String, data: [UInt8]) {
        let header = #"{"\#(name)":{"dtype":"F32","shape":[\#(values.count)],"data_offsets":[0,\#(4 * values.count)]}}"#
        return (header, f32Bytes(values))
    }
}
