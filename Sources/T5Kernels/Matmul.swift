// Attention products: sgemm over strided heads in the encoder, SIMD loops over the caches in decode steps.
// (Linear layers go through `packedLinear`.)
import CBLAS

/// `c[m, n] = a[m, k] · b[n, k]ᵀ` with explicit leading dimensions (attention scores over strided heads).
@inline(__always)
package func matmulTransposedB(
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
}

/// `c[m, n] = a[m, k] · b[k, n]` with explicit leading dimensions (attention-weighted values).
@inline(__always)
package func matmul(
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
}

/// `y[m] = a[m, n] · x[n]` over rows `lda` apart (one query against a cache of keys).
/// A SIMD loop rather than sgemv: these products are tiny (≤ steps × d_kv), and an sgemv call may wake
/// OpenBLAS's threads, which then spin against the engine's worker pool for the rest of the decode step.
@inline(__always)
package func matvec(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    for i in 0..<m { y[i] = packedDot(F32Elements.self, UnsafeRawPointer(a + i * lda), x, n) }
}

/// `y[n] = a[m, n]ᵀ · x[m]` over rows `lda` apart (attention weights times cached values); a SIMD loop, as `matvec`.
@inline(__always)
package func matvecTransposed(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    y.update(repeating: 0, count: n)
    let yr = UnsafeMutableRawPointer(y)
    for i in 0..<m {
        let row = UnsafeRawPointer(a + i * lda), xi = SIMD16<Float>(repeating: x[i])
        var j = 0
        while j + 16 <= n {
            let acc = yr.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self)
            yr.storeBytes(of: acc + xi * row.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<Float>.self),
                          toByteOffset: 4 * j, as: SIMD16<Float>.self)
            j += 16
        }
        while j < n { y[j] += x[i] * a[i * lda + j]; j += 1 }
    }
}
