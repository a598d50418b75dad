// Products with int8 weights (symmetric, one f32 scale per output row) and f32 activations.
// Up to 8 rows: hand-written SIMD dot products over the worker pool; more rows (the encoder): dequantised panels through sgemm.
import CBLAS

/// A quantised `[out, in]` weight: `w[o, i] ≈ Float(values[o, i]) * scales[o]`.
struct Int8Matrix {
    let values: UnsafePointer<Int8>   // [out, in] row-major
    let scales: UnsafePointer<Float>  // [out]
    let outFeatures: Int
    let inFeatures: Int
}

/// Widens 16 int8 lanes to f32. Lane by lane on purpose: the generic SIMD conversions
/// (`SIMD16<Int32>(truncatingIfNeeded:)`, `SIMD16<Float>(_:)`) stayed out-of-line calls in a profiled release
/// build, while this loop is vectorised to a sign-extend and a convert.
@inline(__always)
func widenInt8(_ v: SIMD16<Int8>) -> SIMD16<Float> {
    var r = SIMD16<Float>()
    for i in 0..<16 { r[i] = Float(v[i]) }
    return r
}

/// Everything a chunk of output rows needs; passed by pointer to the pool, so dispatch allocates nothing.
private struct Int8Job {
    let x: UnsafePointer<Float>
    let rows: Int
    let w: Int8Matrix
    let y: UnsafeMutablePointer<Float>
    let accumulate: Bool
}

/// `y[rows, out] = x[rows, in] · (scales ⊙ values)ᵀ (+ y when accumulate)`.
func int8Linear(
    _ x: UnsafePointer<Float>, rows: Int, _ w: Int8Matrix, into y: UnsafeMutablePointer<Float>,
    accumulate: Bool, pool: WorkerPool = .shared
) {
    if rows > 8 {
        int8LinearBySgemm(x, rows: rows, w, into: y, accumulate: accumulate)
        return
    }
    var job = Int8Job(x: x, rows: rows, w: w, y: y, accumulate: accumulate)
    // About 8 chunks per thread: enough to balance a preempted thread, few enough to keep claims cheap.
    let chunk = max(16, w.outFeatures / (pool.threadCount * 8))
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: w.outFeatures, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
            int8Rows(context.assumingMemoryBound(to: Int8Job.self).pointee, begin, end)
        }
    }
}

/// Output rows `begin..<end` for every input row, four input rows per pass over a weight row.
@inline(__always)
private func int8Rows(_ job: Int8Job, _ begin: Int, _ end: Int) {
    let n = job.w.inFeatures, out = job.w.outFeatures
    for o in begin..<end {
        let wRow = UnsafeRawPointer(job.w.values + o * n)
        let s = job.w.scales[o]
        var r = 0
        while r + 4 <= job.rows {
            let d = dot4(wRow, job.x + r * n, n)
            for i in 0..<4 { store(job.y + (r + i) * out + o, s * d[i], job.accumulate) }
            r += 4
        }
        while r < job.rows {
            store(job.y + r * out + o, s * dot1(wRow, job.x + r * n, n), job.accumulate)
            r += 1
        }
    }
}

@inline(__always)
private func store(_ p: UnsafeMutablePointer<Float>, _ v: Float, _ accumulate: Bool) {
    p.pointee = accumulate ? p.pointee + v : v
}

/// Σ w[i]·x[i] over `n` int8 weights; four accumulators hide the add latency.
@inline(__always)
private func dot1(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 64 <= n {
        a0 = muladd(a0, widenInt8(w.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self)), xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a1 = muladd(a1, widenInt8(w.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self)), xr.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self))
        a2 = muladd(a2, widenInt8(w.loadUnaligned(fromByteOffset: i + 32, as: SIMD16<Int8>.self)), xr.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self))
        a3 = muladd(a3, widenInt8(w.loadUnaligned(fromByteOffset: i + 48, as: SIMD16<Int8>.self)), xr.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self))
        i += 64
    }
    while i + 16 <= n {
        a0 = muladd(a0, widenInt8(w.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self)), xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        i += 16
    }
    var sum = ((a0 + a1) + (a2 + a3)).sum()
    let wi = w.assumingMemoryBound(to: Int8.self)
    while i < n { sum += Float(wi[i]) * x[i]; i += 1 }
    return sum
}

/// The dot products of one int8 weight row with four consecutive input rows, widening each weight once.
@inline(__always)
private func dot4(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
    let x0 = UnsafeRawPointer(x), x1 = UnsafeRawPointer(x + n), x2 = UnsafeRawPointer(x + 2 * n), x3 = UnsafeRawPointer(x + 3 * n)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let wv = widenInt8(w.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self))
        a0 = muladd(a0, wv, x0.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a1 = muladd(a1, wv, x1.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a2 = muladd(a2, wv, x2.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a3 = muladd(a3, wv, x3.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        i += 16
    }
    var d = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
    let wi = w.assumingMemoryBound(to: Int8.self)
    while i < n {
        let wf = Float(wi[i])
        d += SIMD4(wf * x[i], wf * x[n + i], wf * x[2 * n + i], wf * x[3 * n + i])
        i += 1
    }
    return d
}

/// Many rows: widen a panel of output rows to f32 and let sgemm do the arithmetic; the widening is
/// `out·in` work against `rows·out·in` for the product.
private func int8LinearBySgemm(
    _ x: UnsafePointer<Float>, rows: Int, _ w: Int8Matrix, into y: UnsafeMutablePointer<Float>, accumulate: Bool
) {
    let n = w.inFeatures, out = w.outFeatures
    let panel = min(out, 256)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: panel * n)
    defer { scratch.deallocate() }
    var o0 = 0
    while o0 < out {
        let p = min(panel, out - o0)
        for o in 0..<p {
            let s = w.scales[o0 + o], src = w.values + (o0 + o) * n, dst = scratch + o * n
            for i in 0..<n { dst[i] = Float(src[i]) * s }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(p), Int32(n),
                    1, x, Int32(n), scratch, Int32(n), accumulate ? 1 : 0, y + o0, Int32(out))
        o0 += p
    }
}

/// Embedding lookup from an int8 table: `dst = Float(values[row]) * scales[row]`.
@inline(__always)
func int8Row(_ w: Int8Matrix, _ row: Int, into dst: UnsafeMutablePointer<Float>) {
    let n = w.inFeatures, s = w.scales[row], src = w.values + row * n
    for i in 0..<n { dst[i] = Float(src[i]) * s }
}
