// One memory-mapped, fully validated .safetensors file.
// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section.

import Foundation

/// One validated .safetensors file. Sendable because it is immutable after init.
public final class SafetensorsFile: @unchecked Sendable {
    public let url: URL
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    package let mapping: MappedFile
    /// Byte offset of the data section within the file (8 + header length).
    package let dataStart: Int

    public init(url: URL) throws {
        let mapping = try MappedFile(url: url)
        let path = url.path
        let bytes = mapping.bytes
        guard bytes.count >= 8 else { throw WeightsError.tooShort(path: path, byteCount: bytes.count) }

        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= SafetensorsHeader.maxHeaderLength else {
            throw WeightsError.headerTooLarge(path: path, headerLength: headerLength)
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw WeightsError.headerExceedsFile(path: path, headerLength: headerLength, fileSize: bytes.count)
        }
        let dataStart = 8 + Int(headerLength)
        let header = try SafetensorsHeader.parse(
            UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]),
            dataSize: bytes.count - dataStart,
            path: path
        )
        self.url = url
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.mapping = mapping
        self.dataStart = dataStart
    }

    /// A view into the mapping, valid while this file is alive. `tensor` should come from `tensors`;
    /// offsets that do not fit this file's data section give an empty view rather than reading out of bounds.
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        let data = mapping.bytes
        let dataSize = data.count - dataStart
        let offsets = tensor.dataOffsets
        guard offsets.lowerBound >= 0, offsets.upperBound <= dataSize else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(
            rebasing: data[(dataStart + offsets.lowerBound)..<(dataStart + offsets.upperBound)]
        )
    }
}
