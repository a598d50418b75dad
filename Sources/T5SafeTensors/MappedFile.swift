// A read-only memory map of a whole file; checkpoint tensors are read straight from it.
// The mapping lives exactly as long as this object, so anything pointing into it must keep it alive.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file (open/fstat/mmap, MAP_PRIVATE, PROT_READ), unmapped in deinit.
/// If another process truncates the file while it is mapped, reading past the new end raises SIGBUS;
/// no userspace check can prevent that, so checkpoints are expected not to change while loaded.
/// Sendable because nothing changes after init and the mapping is read-only.
public final class MappedFile: @unchecked Sendable {
    public let url: URL
    public let byteCount: Int
    /// nil for an empty file: mmap rejects a zero length.
    private let base: UnsafeRawPointer?

    public init(url: URL) throws {
        let path = url.path
        // O_NONBLOCK so that a FIFO at this path makes us fail below instead of hanging in open.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw WeightsError.fileNotFound(path: path) }
            throw WeightsError.unreadable(path: path, reason: Self.message(for: code))
        }
        // The mapping stays valid after the descriptor is closed.
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw WeightsError.unreadable(path: path, reason: Self.message(for: errno))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw WeightsError.notAFile(path: path) }
        let size = Int(info.st_size)

        if size == 0 {
            base = nil
        } else {
            let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
                throw WeightsError.unreadable(path: path, reason: Self.message(for: errno))
            }
            base = UnsafeRawPointer(mapped)
        }
        self.url = url
        self.byteCount = size
    }

    deinit {
        if let base {
            munmap(UnsafeMutableRawPointer(mutating: base), byteCount)
        }
    }

    /// The whole file. Valid while this object is alive.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: byteCount)
    }

    private static func message(for code: Int32) -> String {
        String(cString: strerror(code))
    }
}
