// Sizes given on the command line: `512MiB`, `2GiB`, `3GB`, `1.5G` or plain bytes.
import ArgumentParser
import Foundation
import T5Engine

enum ByteSize {
    /// Binary units (KiB, MiB, GiB, TiB, and K, M, G, T alone) are powers of 1024; KB, MB, GB, TB powers of 1000.
    static func parse(_ text: String) throws -> Int {
        let units: [(String, Double)] = [
            ("KIB", 0x1p10), ("MIB", 0x1p20), ("GIB", 0x1p30), ("TIB", 0x1p40),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
            ("K", 0x1p10), ("M", 0x1p20), ("G", 0x1p30), ("T", 0x1p40), ("B", 1),
        ]
        let upper = text.trimmingCharacters(in: .whitespaces).uppercased()
        let (unit, factor) = units.first { upper.hasSuffix($0.0) } ?? ("", 1)
        let number = upper.dropLast(unit.count).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value.isFinite, value > 0, value * factor < 0x1p62 else {
            throw ValidationError("'\(text)' is not a size: give a positive number of bytes, optionally with KiB, MiB, GiB, TiB, KB, MB, GB or TB")
        }
        return Int(value * factor)
    }
}

extension KVCacheFormat: ExpressibleByArgument {}
