// Dense products through OpenBLAS: every linear layer of the model is one call here.
import CBLAS

/// `y[rows, out] = x[rows, in] · wᵀ (+ y when accumulate)`, with `w` stored `[out, in]` as PyTorch saves it.
/// One row uses sgemv: at batch 1 it streams the weights once, which is all a decode step can do.
@inline(__always)
func linear(
    _ x: UnsafePointer<Float>, rows: Int, _ w: UnsafePointer<Float>, out: Int, in inFeatures: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool = false
) {
    let beta: Float = accumulate ? 1 : 0
    if rows == 1 {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(out), Int32(inFeatures), 1, w, Int32(inFeatures), x, 1, beta, y, 1)
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(out), Int32(inFeatures),
                    1, x, Int32(inFeatures), w, Int32(inFeatures), beta, y, Int32(out))
    }
}

/// `c[m, n] = a[m, k] · b[n, k]ᵀ` with explicit leading dimensions (attention scores over strided heads).
@inline(__always)
func matmulTransposedB(
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
}

/// `c[m, n] = a[m, k] · b[k, n]` with explicit leading dimensions (attention-weighted values).
@inline(__always)
func matmul(
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
func matvec(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    for i in 0..<m { y[i] = packedDot(F32Elements.self, UnsafeRawPointer(a + i * lda), x, n) }
}

/// `y[n] = a[m, n]ᵀ · x[m]` over rows `lda` apart (attention weights times cached values); a SIMD loop, as `matvec`.
@inline(__always)
func matvecTransposed(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, cols n: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
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
