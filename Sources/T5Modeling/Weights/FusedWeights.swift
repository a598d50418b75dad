// Linear layers that read the same input, stacked into one matrix at load so that the encoder runs one product where
// it ran several (q/k/v; wi_0/wi_1): one pool dispatch (or one sgemm, which packs the input once) instead of several
// (PERFORMANCE.md, "Encoder fusion").
import Foundation
import T5Tensor

/// Heap bytes that free themselves: the storage of a fused packed matrix.
private final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = .allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}

extension LinearWeight {
    /// `parts` (same input width) stacked by output rows: `[Σ out, in]`, in the parts' storage format when they share
    /// one (int8 scales stacked alike), else widened to f32. The mapped pages of the parts are given back to the
    /// kernel, so the copy does not double the resident weights; the parts stay usable (pages are read again on use).
    static func fused(_ parts: [LinearWeight]) -> LinearWeight {
        let n = parts[0].inFeatures, out = parts.reduce(0) { $0 + $1.outFeatures }
        precondition(parts.allSatisfy { $0.inFeatures == n }, "fused layers must share their input width")
        let formats = parts.map(\.matrix.format)
        let fused: LinearWeight
        if let format = formats.first, format != .f32, formats.allSatisfy({ $0 == format }) {
            let rowBytes = n * format.elementBytes
            let bytes = OwnedBytes(count: out * rowBytes)
            let scales = format == .int8 ? OwnedFloatBuffer(count: out) : nil
            var row = 0
            for p in parts {
                let m = p.matrix
                bytes.pointer.advanced(by: row * rowBytes).copyMemory(from: m.values, byteCount: p.outFeatures * rowBytes)
                if let scales, let s = m.scales { (scales.pointer + row).update(from: s, count: p.outFeatures) }
                row += p.outFeatures
            }
            let scaleTensor = scales.map { FloatTensor(shape: [out], pointer: UnsafePointer($0.pointer), count: out, owner: $0) }
            let matrix = PackedMatrix(values: UnsafeRawPointer(bytes.pointer), format: format, scales: scaleTensor?.pointer,
                                      outFeatures: out, inFeatures: n)
            fused = LinearWeight(storage: .packed(PackedTensor(matrix: matrix, scales: scaleTensor, owner: bytes)),
                                 outFeatures: out, inFeatures: n)
        } else {
            let buffer = OwnedFloatBuffer(count: out * n)
            var row = 0
            for p in parts {
                for r in 0..<p.outFeatures { p.row(r, into: buffer.pointer + (row + r) * n) }
                row += p.outFeatures
            }
            let tensor = FloatTensor(shape: [out, n], pointer: UnsafePointer(buffer.pointer), count: out * n, owner: buffer)
            fused = LinearWeight(storage: .f32(tensor), outFeatures: out, inFeatures: n)
        }
        for p in parts { p.releaseMappedPages() }
        return fused
    }

    /// Drops the whole pages of the weight's file mapping from this process's resident memory (the mapping is
    /// private and read-only, so the next read, if any, pages them in again from the file).
    private func releaseMappedPages() {
        guard let range = mappedAddresses, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, MADV_DONTNEED)
    }
}
