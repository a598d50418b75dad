// Batch-1 products with f32 weights over the worker pool: one streaming pass over the weights, no BLAS call overhead.

/// Everything a chunk of output rows needs; passed by pointer to the pool.
private struct F32Job {
    let x: UnsafePointer<Float>
    let w: UnsafePointer<Float>
    let inFeatures: Int
    let y: UnsafeMutablePointer<Float>
    let accumulate: Bool
}

/// `y[out] = w[out, in] · x[in] (+ y when accumulate)`.
func f32Matvec(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, out: Int, in n: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool, pool: WorkerPool = .shared
) {
    var job = F32Job(x: x, w: w, inFeatures: n, y: y, accumulate: accumulate)
    let chunk = max(8, out / (pool.threadCount * 8))
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: out, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
            let job = context.assumingMemoryBound(to: F32Job.self).pointee
            for o in begin..<end {
                let d = f32Dot(job.w + o * job.inFeatures, job.x, job.inFeatures)
                job.y[o] = job.accumulate ? job.y[o] + d : d
            }
        }
    }
}

/// Σ a[i]·b[i]; four accumulators hide the add latency.
@inline(__always)
func f32Dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 64 <= n {
        a0 += ar.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * br.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        a1 += ar.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self) * br.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self)
        a2 += ar.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self) * br.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self)
        a3 += ar.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self) * br.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self)
        i += 64
    }
    while i + 16 <= n {
        a0 += ar.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self) * br.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    var sum = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { sum += a[i] * b[i]; i += 1 }
    return sum
}
