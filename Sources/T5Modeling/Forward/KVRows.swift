// Cached keys or values as attention reads them, in any `KVCacheFormat`: a view over `[positions, inner]` elements
// (int8: with `[positions, heads]` scales). Narrow formats are widened 16 lanes at a time; compute is f32.
import T5Kernels
import T5Tensor

/// A non-owning view; the self-attention cache and `EncodedPrompts` own the memory.
struct KVRows {
    let format: KVCacheFormat
    let data: UnsafeMutableRawPointer
    /// int8 only: one scale per position and head.
    let scales: UnsafeMutablePointer<Float>?
    let inner, heads: Int
    /// The runtime's kernel level: from AVX2 up, attention runs in the C kernels (f16 widened by F16C, int8 by sign
    /// extension) rather than the portable Swift loops.
    var kernels: InstructionSet = .portable

    private var dkv: Int { inner / heads }

    /// Stores `x` (`[inner]`) at `position`, narrowed to the format (f16 saturates at ±65504).
    @inline(__always)
    func store(position t: Int, _ x: UnsafePointer<Float>) {
        let dst = data + t * inner * format.elementBytes
        switch format {
        case .f32:
            dst.assumingMemoryBound(to: Float.self).update(from: x, count: inner)
        case .f16:
            storeHalf(x, count: inner, into: dst.assumingMemoryBound(to: UInt16.self), level: kernels)
        case .int8:
            Int8Quantize.quantize(x, rows: heads, cols: dkv, values: dst.assumingMemoryBound(to: Int8.self),
                                  scales: scales! + t * heads, level: kernels)
        }
    }

    /// `scores[j] = key_j · q` over head `head`'s part of positions `0..<count`.
    @inline(__always)
    func scores(head: Int, count: Int, query q: UnsafePointer<Float>, into scores: UnsafeMutablePointer<Float>) {
        let e = format.elementBytes, k = data + head * dkv * e
        switch format {
        case .f32 where kernels != .portable:
            f32MatvecC(k.assumingMemoryBound(to: Float.self), lda: inner, rows: count, cols: dkv, q, into: scores, kernels)
        case .f32:
            matvec(k.assumingMemoryBound(to: Float.self), lda: inner, rows: count, cols: dkv, q, into: scores)
        case .f16 where kernels != .portable:
            f16MatvecF16C(k, lda: inner, rows: count, cols: dkv, q, into: scores)
        case .f16:
            packedMatvec(F16Elements.self, k, rowBytes: inner * e, rows: count, cols: dkv, scales: nil, scaleStride: 0, q, into: scores)
        case .int8 where kernels != .portable:
            int8MatvecC(k, lda: inner, rows: count, cols: dkv, scales: scales! + head, scaleStride: heads, q, into: scores, kernels)
        case .int8:
            packedMatvec(Int8Elements.self, k, rowBytes: inner, rows: count, cols: dkv, scales: scales! + head, scaleStride: heads, q, into: scores)
        }
    }

    /// `out = Σ_j weights[j] · value_j` over head `head`'s part of positions `0..<count`.
    @inline(__always)
    func context(head: Int, count: Int, weights p: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let e = format.elementBytes, v = data + head * dkv * e
        switch format {
        case .f32 where kernels != .portable:
            f32MatvecTransposedC(v.assumingMemoryBound(to: Float.self), lda: inner, rows: count, cols: dkv, p, into: out, kernels)
        case .f32:
            matvecTransposed(v.assumingMemoryBound(to: Float.self), lda: inner, rows: count, cols: dkv, p, into: out)
        case .f16 where kernels != .portable:
            f16MatvecTransposedF16C(v, lda: inner, rows: count, cols: dkv, p, into: out)
        case .f16:
            packedMatvecTransposed(F16Elements.self, v, rowBytes: inner * e, rows: count, cols: dkv, scales: nil, scaleStride: 0, p, into: out)
        case .int8 where kernels != .portable:
            int8MatvecTransposedC(v, lda: inner, rows: count, cols: dkv, scales: scales! + head, scaleStride: heads, p,
                                  into: out, kernels)
        case .int8:
            packedMatvecTransposed(Int8Elements.self, v, rowBytes: inner, rows: count, cols: dkv,
                                   scales: scales! + head, scaleStride: heads, p, into: out)
        }
    }

    /// The view starting at `position`.
    func from(position t: Int) -> KVRows {
        KVRows(format: format, data: data + t * inner * format.elementBytes, scales: scales.map { $0 + t * heads },
               inner: inner, heads: heads, kernels: kernels)
    }
}

/// Owns `positions` rows of keys or values in a format (int8: scales first, so they stay aligned).
final class KVStorage {
    let rows: KVRows
    /// The f32 format's elements, as the forward pass's f32 helpers take them.
    let floats: FloatBuffer?
    private let raw: UnsafeMutableRawPointer?
    private let rawBytes: Int

    init(format: KVCacheFormat, positions: Int, inner: Int, heads: Int, kernels: InstructionSet) {
        if format == .f32 {
            let f = FloatBuffer(count: positions * inner)
            floats = f
            raw = nil
            rawBytes = 0
            rows = KVRows(format: .f32, data: UnsafeMutableRawPointer(f.pointer), scales: nil, inner: inner, heads: heads,
                          kernels: kernels)
        } else {
            let scaleBytes = format == .int8 ? positions * heads * 4 : 0
            rawBytes = max(1, scaleBytes + positions * inner * format.elementBytes)
            let p = PageAllocation.allocate(byteCount: rawBytes)
            floats = nil
            raw = p
            rows = KVRows(format: format, data: p + scaleBytes,
                          scales: format == .int8 ? p.bindMemory(to: Float.self, capacity: positions * heads) : nil,
                          inner: inner, heads: heads, kernels: kernels)
        }
    }

    deinit { if let raw { PageAllocation.deallocate(raw, byteCount: rawBytes) } }
}
