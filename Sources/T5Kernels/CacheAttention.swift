// Attention over a decoder self-attention cache held narrower than f32 (f16, or int8 with one scale per position
// and head): the cached keys and values are widened 16 lanes at a time and every product is computed in f32.
// On AVX2 machines and up, f32 and f16 caches go to C kernels (f16 widened by F16C); the portable runtime keeps
// `matvec` / `matvecTransposed` (Matmul.swift) for f32.
import CT5Kernels

/// `y[i] = scale(i) · Σ_j key_i[j]·x[j]` for `m` cached keys `rowBytes` apart, each `n` elements of format `E`;
/// `scales` (nil: 1) holds one scale per key, `scaleStride` floats apart.
@inline(__always)
package func packedMatvec<E: PackedElements>(
    _: E.Type, _ a: UnsafeRawPointer, rowBytes: Int, rows m: Int, cols n: Int,
    scales: UnsafePointer<Float>?, scaleStride: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
) {
    for i in 0..<m {
        let dot = packedDot(E.self, a + i * rowBytes, x, n)
        y[i] = scales.map { dot * $0[i * scaleStride] } ?? dot
    }
}

/// `y[n] = Σ_i x[i]·scale(i)·value_i` for `m` cached values `rowBytes` apart, each `n` elements of format `E`.
@inline(__always)
package func packedMatvecTransposed<E: PackedElements>(
    _: E.Type, _ a: UnsafeRawPointer, rowBytes: Int, rows m: Int, cols n: Int,
    scales: UnsafePointer<Float>?, scaleStride: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
) {
    y.update(repeating: 0, count: n)
    let yr = UnsafeMutableRawPointer(y)
    for i in 0..<m {
        let row = a + i * rowBytes
        let weight = scales.map { x[i] * $0[i * scaleStride] } ?? x[i]
        let wi = SIMD16<Float>(repeating: weight)
        var j = 0
        while j + 16 <= n {
            let acc = yr.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self)
            yr.storeBytes(of: acc + wi * E.load16(row, j), toByteOffset: 4 * j, as: SIMD16<Float>.self)
            j += 16
        }
        while j < n { y[j] += weight * E.load1(row, j); j += 1 }
    }
}

/// `y[m] = a[m, n] · x[n]` over f32 rows `lda` elements apart, in the C kernels of `level` (not `.portable`).
@inline(__always)
package func f32MatvecC(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>,
                        into y: UnsafeMutablePointer<Float>, _ level: InstructionSet) {
    _ = t5k_f32_matvec(a, lda, m, n, x, y, level.kernelLevel)
}

/// `y[n] = a[m, n]ᵀ · x[m]` over f32 rows `lda` elements apart, in the C kernels of `level` (not `.portable`).
@inline(__always)
package func f32MatvecTransposedC(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>,
                                  into y: UnsafeMutablePointer<Float>, _ level: InstructionSet) {
    _ = t5k_f32_matvec_t(a, lda, m, n, x, y, level.kernelLevel)
}

/// `y[i] = scale(i) · (a[i] · x)` over int8 rows `lda` bytes apart (`scales[i * scaleStride]`), in the C kernels of
/// `level` (not `.portable`): `packedMatvec` for int8 caches.
@inline(__always)
package func int8MatvecC(_ a: UnsafeRawPointer, lda: Int, rows m: Int, cols n: Int, scales: UnsafePointer<Float>,
                         scaleStride: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                         _ level: InstructionSet) {
    _ = t5k_i8_matvec(a.assumingMemoryBound(to: Int8.self), lda, m, n, scales, scaleStride, x, y, level.kernelLevel)
}

/// `y = Σ_i x[i]·scale(i)·a[i]` over int8 rows `lda` bytes apart, in the C kernels of `level` (not `.portable`):
/// `packedMatvecTransposed` for int8 caches.
@inline(__always)
package func int8MatvecTransposedC(_ a: UnsafeRawPointer, lda: Int, rows m: Int, cols n: Int, scales: UnsafePointer<Float>,
                                   scaleStride: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                                   _ level: InstructionSet) {
    _ = t5k_i8_matvec_t(a.assumingMemoryBound(to: Int8.self), lda, m, n, scales, scaleStride, x, y, level.kernelLevel)
}

/// `y[m] = a[m, n] · x[n]` over f16 rows `lda` elements apart, widened by F16C. Only where `InstructionSet.best` is
/// not `.portable`.
@inline(__always)
package func f16MatvecF16C(_ a: UnsafeRawPointer, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    _ = t5k_f16_matvec_avx2(a.assumingMemoryBound(to: UInt16.self), lda, m, n, x, y)
}

/// `y[n] = a[m, n]ᵀ · x[m]` over f16 rows `lda` elements apart, widened by F16C; as `f16MatvecF16C`.
@inline(__always)
package func f16MatvecTransposedF16C(_ a: UnsafeRawPointer, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    _ = t5k_f16_matvec_t_avx2(a.assumingMemoryBound(to: UInt16.self), lda, m, n, x, y)
}

/// `n` floats stored as IEEE half (an f16 cache's store), clamped to ±65504 first so that large values saturate instead
/// of becoming infinite. On AVX-512 machines in C (F16C, the same rounding: to nearest even), elsewhere in Swift.
@inline(__always)
package func storeHalf(_ x: UnsafePointer<Float>, count n: Int, into h: UnsafeMutablePointer<UInt16>, level: InstructionSet) {
    if level == .avx512, t5k_store_f16_avx512(x, n, h) != 0 { return }
    for i in 0..<n { h[i] = Float16(max(-65504, min(65504, x[i]))).bitPattern }
}
