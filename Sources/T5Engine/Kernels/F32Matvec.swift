// Products of a few rows (decode steps, batch ≤ 16) with f32 weights over the worker pool: one streaming pass over the
// weights. OpenBLAS's sgemm repacks the whole weight matrix on every call, which at 8 rows cost more than the product.

/// Largest row count that goes through `f32SmallBatch`; more rows (the encoder) use sgemm.
let f32SmallBatchMaxRows = 16

/// Everything a chunk of output columns needs; passed by pointer to the pool.
private struct F32Job {
    let x: UnsafePointer<Float>
    let rows: Int
    let w: UnsafePointer<Float>
    let inFeatures: Int
    let outFeatures: Int
    let y: UnsafeMutablePointer<Float>
    let accumulate: Bool
}

/// `y[rows, out] = x[rows, in] · w[out, in]ᵀ (+ y when accumulate)` for a few rows.
func f32SmallBatch(
    _ x: UnsafePointer<Float>, rows: Int, _ w: UnsafePointer<Float>, out: Int, in n: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool, pool: WorkerPool = .shared
) {
    var job = F32Job(x: x, rows: rows, w: w, inFeatures: n, outFeatures: out, y: y, accumulate: accumulate)
    let chunk = max(8, out / (pool.threadCount * 8))
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: out, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
            let job = context.assumingMemoryBound(to: F32Job.self).pointee
            let n = job.inFeatures, out = job.outFeatures
            for o in begin..<end {
                // One weight row against four input rows per pass: the row comes from memory once, then from L1.
                let wRow = job.w + o * n
                var r = 0
                while r + 4 <= job.rows {
                    let d = f32Dot4(wRow, job.x + r * n, n)
                    for i in 0..<4 { store(job.y + (r + i) * out + o, d[i], job.accumulate) }
                    r += 4
                }
                while r < job.rows {
                    store(job.y + r * out + o, f32Dot(wRow, job.x + r * n, n), job.accumulate)
                    r += 1
                }
            }
        }
    }
}

@inline(__always)
private func store(_ p: UnsafeMutablePointer<Float>, _ v: Float, _ accumulate: Bool) {
    p.pointee = accumulate ? p.pointee + v : v
}

/// Σ a[i]·b[i]; four accumulators hide the add latency.
@inline(__always)
func f32Dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 64 <= n {
        a0 = muladd(a0, ar.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self), br.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a1 = muladd(a1, ar.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self), br.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self))
        a2 = muladd(a2, ar.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self), br.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self))
        a3 = muladd(a3, ar.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self), br.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self))
        i += 64
    }
    while i + 16 <= n {
        a0 = muladd(a0, ar.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self), br.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        i += 16
    }
    var sum = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// The dot products of one weight row `w` with four consecutive input rows of `x` (`n` apart), loading `w` once.
@inline(__always)
private func f32Dot4(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
    let wr = UnsafeRawPointer(w)
    let x0 = UnsafeRawPointer(x), x1 = UnsafeRawPointer(x + n), x2 = UnsafeRawPointer(x + 2 * n), x3 = UnsafeRawPointer(x + 3 * n)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let wv = wr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        a0 = muladd(a0, wv, x0.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a1 = muladd(a1, wv, x1.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a2 = muladd(a2, wv, x2.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a3 = muladd(a3, wv, x3.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        i += 16
    }
    var d = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
    while i < n {
        let wf = w[i]
        d += SIMD4(wf * x[i], wf * x[n + i], wf * x[2 * n + i], wf * x[3 * n + i])
        i += 1
    }
    return d
}
