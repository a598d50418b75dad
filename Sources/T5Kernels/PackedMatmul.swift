// Every linear layer's product: f32 weights, or weights stored narrower and widened on the fly (int8, symmetric with one
// f32 scale per output row; bf16; f16), with f32 activations and f32 accumulation; except int8 with AVX2 or AVX-512,
// whose tile-kernel products round the activations to 16 bits and sum exactly in integers (A16Matmul.swift), and the
// opt-in W8A8 mode (W8A8Matmul.swift).
// Up to `poolMaxRows` (decode steps, short prompts): hand-written SIMD kernels over the worker pool, each weight read from
// memory once per call. More rows (long prompts, big batches): on AVX-512 machines the packed-panel kernel on the pool
// (`gemmMinRows`), elsewhere sgemm, on panels of widened weights if not f32.
// OpenBLAS's sgemm repacks the whole weight matrix on every call: at 8 rows that cost more than the product itself
// (PERFORMANCE.md, "Decode steps never call BLAS").
import CBLAS
import CT5Kernels
import T5Tensor

/// Everything a chunk of output rows needs; passed by pointer to the pool, so dispatch allocates nothing.
private struct PackedJob {
    let x: UnsafePointer<Float>
    let rows: Int
    /// Floats between consecutive rows of `x` and of `y`.
    let ldx: Int
    let ldy: Int
    let w: PackedMatrix
    let y: UnsafeMutablePointer<Float>
    let accumulate: Bool
    /// The same product for the C kernels; `level` says which of them runs (or the Swift ones).
    var c: T5KLinear
    let level: InstructionSet

    init(x: UnsafePointer<Float>, rows: Int, ldx: Int, ldy: Int, w: PackedMatrix, y: UnsafeMutablePointer<Float>,
         accumulate: Bool, level: InstructionSet) {
        self.x = x; self.rows = rows; self.ldx = ldx; self.ldy = ldy; self.w = w; self.y = y
        self.accumulate = accumulate; self.level = level
        c = T5KLinear(x: x, w: w.values, scales: w.scales, y: y, rows: rows, in: w.inFeatures, out: w.outFeatures,
                      format: w.format.kernelCode, accumulate: accumulate ? 1 : 0,
                      ldx: ldx, ldw: w.inFeatures, ldy: ldy)
    }
}

/// Rows up to this many use the pool kernels; more go to sgemm (on widened panels unless f32), whose cache blocking wins
/// once the input rows no longer fit in L2 (the pool kernels stream all of them once per four weight rows).
/// f32 has no widened copy to skip, so it leaves the pool after decode-sized batches; narrower formats stay longer: the
/// C kernels up to 256 rows, the portable Swift ones up to 128 (PERFORMANCE.md, "Narrow formats no slower than f32",
/// "Pool kernels vs sgemm threshold").
@inline(__always)
package func poolMaxRows(_ format: PackedFormat, _ level: InstructionSet) -> Int {
    format == .f32 ? 16 : level == .portable ? 128 : 256
}

/// `y[rows, out] = x[rows, in] · wᵀ (+ y when accumulate)`, rows of `x` `ldx` floats apart (default `in`) and rows of
/// `y` `ldy` apart (default `out`: several products can fill one wider row, as q/k/v do in the encoder).
/// `rowIndependent` (decode steps): each row's result must not depend on how many rows share the call, so the product
/// stays on the pool kernels (whose per-row arithmetic is fixed) whatever `rows` is, never going to sgemm.
package func packedLinear(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, _ w: PackedMatrix, into y: UnsafeMutablePointer<Float>,
    ldy: Int? = nil, accumulate: Bool, pool: WorkerPool, rowIndependent: Bool = false
) {
    let ldx = ldx ?? w.inFeatures, ldy = ldy ?? w.outFeatures
    precondition(ldx >= w.inFeatures && ldy >= w.outFeatures, "packedLinear: rows overlap")
    if w.rowSums != nil {
        w8a8Linear(x, rows: rows, ldx: ldx, w, into: y, ldy: ldy, accumulate: accumulate, pool: pool)
        return
    }
    if usesPackedPanels(rows: rows, w.format, pool.instructionSet, rowIndependent: rowIndependent) {
        gemmOnPool(x, rows: rows, ldx: ldx, w, into: y, ldy: ldy, accumulate: accumulate, pool: pool)
        return
    }
    let onPool = usesPoolKernels(rows: rows, w.format, pool.instructionSet, rowIndependent: rowIndependent)
    if onPool, usesA16(w, pool.instructionSet) {
        a16Linear(x, rows: rows, ldx: ldx, w, into: y, ldy: ldy, accumulate: accumulate, pool: pool)
        return
    }
    if !onPool {
        switch w.format {
        case .f32:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(w.outFeatures), Int32(w.inFeatures),
                        1, x, Int32(ldx), w.values.assumingMemoryBound(to: Float.self), Int32(w.inFeatures),
                        accumulate ? 1 : 0, y, Int32(ldy))
        case .int8, .bf16, .f16:
            packedLinearBySgemm(x, rows: rows, ldx: ldx, w, into: y, ldy: ldy, accumulate: accumulate,
                                level: pool.instructionSet)
        }
        return
    }
    var job = PackedJob(x: x, rows: rows, ldx: ldx, ldy: ldy, w: w, y: y, accumulate: accumulate, level: pool.instructionSet)
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: w.outFeatures, chunk: poolChunk(outputs: w.outFeatures, pool), context: UnsafeRawPointer(p)) {
            context, begin, end in
            runPackedRows(context.assumingMemoryBound(to: PackedJob.self), begin, end)
        }
    }
}

/// Whether `packedLinear` runs a product of `rows` rows in `format` through the packed-panel kernel.
@inline(__always)
private func usesPackedPanels(rows: Int, _ format: PackedFormat, _ level: InstructionSet, rowIndependent: Bool) -> Bool {
    !rowIndependent && level == .avx512 && rows >= gemmMinRows(format)
}

/// Whether `packedLinear` runs it on the pool's tile kernels (rather than the packed-panel kernel or sgemm).
@inline(__always)
private func usesPoolKernels(rows: Int, _ format: PackedFormat, _ level: InstructionSet, rowIndependent: Bool) -> Bool {
    !usesPackedPanels(rows: rows, format, level, rowIndependent: rowIndependent)
        && (rows <= poolMaxRows(format, level) || (rowIndependent && level != .portable))
}

/// One chunk per thread, a multiple of 8 so that the C kernels' batch-1 tiles (eight weight rows) cover it: each chunk
/// is one long weight stream, which the prefetchers follow; eight chunks per thread restarted the stream sixteen times
/// per product (int8 flan-t5-base batch 1: 170-183 -> 272-278 tok/s). Claims stay dynamic, so a worker that is late
/// leaves its chunk to the caller (PERFORMANCE.md, "One weight stream per thread").
@inline(__always)
func poolChunk(outputs: Int, _ pool: WorkerPool) -> Int {
    (max(16, (outputs + pool.threadCount - 1) / pool.threadCount) + 7) & ~7
}

/// Output columns `begin..<end` of one product, by the kernels of its level.
private func runPackedRows(_ jobPointer: UnsafePointer<PackedJob>, _ begin: Int, _ end: Int) {
    switch jobPointer.pointee.level {
    case .avx512:
        _ = withUnsafePointer(to: jobPointer.pointee.c) { t5k_linear_avx512($0, begin, end) }
        return
    case .avx2:
        _ = withUnsafePointer(to: jobPointer.pointee.c) { t5k_linear_avx2($0, begin, end) }
        return
    case .portable: break
    }
    let job = jobPointer.pointee
    switch job.w.format {
    case .f32: packedRows(F32Elements.self, job, begin, end)
    case .int8: packedRows(Int8Elements.self, job, begin, end)
    case .bf16: packedRows(BF16Elements.self, job, begin, end)
    case .f16: packedRows(F16Elements.self, job, begin, end)
    }
}

/// Two or three products of the same input (a decode step's q/k/v, wi_0/wi_1) in one pool dispatch: their output
/// columns are split as one range, so each thread streams one run of weights and the pool synchronises once, not
/// once per product (PERFORMANCE.md, "Decode products grouped per dispatch"). Each output is computed exactly as
/// `packedLinear` would; products that would not run on the tile kernels go one by one.
package func packedLinearGroup(
    _ x: UnsafePointer<Float>, rows: Int, _ w0: PackedMatrix, into y0: UnsafeMutablePointer<Float>,
    _ w1: PackedMatrix, into y1: UnsafeMutablePointer<Float>,
    _ w2: PackedMatrix? = nil, into y2: UnsafeMutablePointer<Float>? = nil,
    pool: WorkerPool, rowIndependent: Bool = false
) {
    let level = pool.instructionSet
    let third = w2.flatMap { w in y2.map { (w, $0) } }
    // int8 activations: quantise the rows once for all the products.
    if w0.rowSums != nil, w1.rowSums != nil, third.map({ $0.0.rowSums != nil }) ?? true,
       w1.inFeatures == w0.inFeatures, third.map({ $0.0.inFeatures == w0.inFeatures }) ?? true {
        w8a8LinearGroup(x, rows: rows, w0, into: y0, w1, into: y1, third, pool: pool)
        return
    }
    func fits(_ w: PackedMatrix) -> Bool {
        w.inFeatures == w0.inFeatures && w.rowSums == nil
            && usesPoolKernels(rows: rows, w.format, level, rowIndependent: rowIndependent)
    }
    let all = fits(w0) && fits(w1) && (third.map { fits($0.0) } ?? true)
    // int8 with 16-bit activations: round the rows once for all the products.
    if all, usesA16(w0, level), usesA16(w1, level), third.map({ usesA16($0.0, level) }) ?? true {
        a16LinearGroup(x, rows: rows, w0, into: y0, w1, into: y1, third, pool: pool)
        return
    }
    let together = pool.threadCount > 1 && all
    guard together else {
        packedLinear(x, rows: rows, w0, into: y0, accumulate: false, pool: pool, rowIndependent: rowIndependent)
        packedLinear(x, rows: rows, w1, into: y1, accumulate: false, pool: pool, rowIndependent: rowIndependent)
        if let (w, y) = third { packedLinear(x, rows: rows, w, into: y, accumulate: false, pool: pool, rowIndependent: rowIndependent) }
        return
    }
    func job(_ w: PackedMatrix, _ y: UnsafeMutablePointer<Float>) -> PackedJob {
        PackedJob(x: x, rows: rows, ldx: w.inFeatures, ldy: w.outFeatures, w: w, y: y, accumulate: false, level: level)
    }
    var jobs = (job(w0, y0), job(w1, y1), third.map { job($0.0, $0.1) } ?? job(w1, y1))
    GroupedProducts.run(&jobs, outputs: (w0.outFeatures, w1.outFeatures, third?.0.outFeatures ?? 0),
                        count: third == nil ? 2 : 3, pool: pool) { job, begin, end in
        runPackedRows(job.assumingMemoryBound(to: PackedJob.self), begin, end)
    }
}

/// Input rows from which `packedRows` uses the blocked loop (see there): at decode batch sizes it pays off on
/// 768-wide inputs but not on 512-wide ones (PERFORMANCE.md, "4x4 blocked loop threshold").
@inline(__always)
package func blockedMinRows(inFeatures n: Int) -> Int { n >= 768 ? 5 : 17 }

/// Output rows `begin..<end` for every input row.
/// - Few rows (decode steps): each weight row against four input rows at a time (widened once per four), then one by
///   one. At batch 1 this is one sequential stream per weight row, faster for every format than reading four weight
///   rows side by side (PERFORMANCE.md, "One stream per weight row at batch 1").
/// - From `blockedMinRows` (the encoder, larger batches): blocks of four weight rows against four input rows (sixteen
///   accumulators), so each weight vector is widened once per four input rows and each input vector loaded once per
///   four weight rows; for short prompts this beats widened panels + sgemm (PERFORMANCE.md, "4x4 blocked kernel").
@inline(__always)
private func packedRows<E: PackedElements>(_: E.Type, _ job: PackedJob, _ begin: Int, _ end: Int) {
    let n = job.w.inFeatures, rowBytes = n * E.bytes
    var o = begin
    if job.rows >= blockedMinRows(inFeatures: n) {
        while o + 4 <= end {
            let w = job.w.values + o * rowBytes
            let s = job.w.scales.map { UnsafeRawPointer($0 + o).loadUnaligned(as: SIMD4<Float>.self) } ?? SIMD4(repeating: 1)
            var r = 0
            while r + 4 <= job.rows {
                let (d0, d1, d2, d3) = dot4x4(E.self, w, rowBytes, job.x + r * job.ldx, n)
                store4(job.y + r * job.ldy + o, d0 * s, job.accumulate)
                store4(job.y + (r + 1) * job.ldy + o, d1 * s, job.accumulate)
                store4(job.y + (r + 2) * job.ldy + o, d2 * s, job.accumulate)
                store4(job.y + (r + 3) * job.ldy + o, d3 * s, job.accumulate)
                r += 4
            }
            while r < job.rows {
                let d = SIMD4(packedDot(E.self, w, job.x + r * job.ldx, n), packedDot(E.self, w + rowBytes, job.x + r * job.ldx, n),
                              packedDot(E.self, w + 2 * rowBytes, job.x + r * job.ldx, n), packedDot(E.self, w + 3 * rowBytes, job.x + r * job.ldx, n))
                store4(job.y + r * job.ldy + o, d * s, job.accumulate)
                r += 1
            }
            o += 4
        }
    }
    // Remaining weight rows one by one (all of them below `blockedMinRows`).
    while o < end {
        let wRow = job.w.values + o * rowBytes
        let s = job.w.scale(o)
        var r = 0
        while r + 4 <= job.rows {
            let d = dot4(E.self, wRow, job.x + r * job.ldx, n)
            for i in 0..<4 { store(job.y + (r + i) * job.ldy + o, s * d[i], job.accumulate) }
            r += 4
        }
        while r < job.rows {
            store(job.y + r * job.ldy + o, s * packedDot(E.self, wRow, job.x + r * job.ldx, n), job.accumulate)
            r += 1
        }
        o += 1
    }
}

/// Four weight rows (`rowBytes` apart) against four input rows (`n` apart): result `[i][k]` is input row i · weight row k.
@inline(__always)
private func dot4x4<E: PackedElements>(
    _: E.Type, _ w: UnsafeRawPointer, _ rowBytes: Int, _ x: UnsafePointer<Float>, _ n: Int
) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
    let w0 = w, w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes
    let x0 = UnsafeRawPointer(x), x1 = UnsafeRawPointer(x + n), x2 = UnsafeRawPointer(x + 2 * n), x3 = UnsafeRawPointer(x + 3 * n)
    var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
    var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
    var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
    var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let v0 = E.load16(w0, i), v1 = E.load16(w1, i), v2 = E.load16(w2, i), v3 = E.load16(w3, i)
        let u0 = x0.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        a00 = muladd(a00, u0, v0); a01 = muladd(a01, u0, v1); a02 = muladd(a02, u0, v2); a03 = muladd(a03, u0, v3)
        let u1 = x1.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        a10 = muladd(a10, u1, v0); a11 = muladd(a11, u1, v1); a12 = muladd(a12, u1, v2); a13 = muladd(a13, u1, v3)
        let u2 = x2.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        a20 = muladd(a20, u2, v0); a21 = muladd(a21, u2, v1); a22 = muladd(a22, u2, v2); a23 = muladd(a23, u2, v3)
        let u3 = x3.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        a30 = muladd(a30, u3, v0); a31 = muladd(a31, u3, v1); a32 = muladd(a32, u3, v2); a33 = muladd(a33, u3, v3)
        i += 16
    }
    var d0 = sums(a00, a01, a02, a03), d1 = sums(a10, a11, a12, a13)
    var d2 = sums(a20, a21, a22, a23), d3 = sums(a30, a31, a32, a33)
    while i < n {
        let v = SIMD4(E.load1(w0, i), E.load1(w1, i), E.load1(w2, i), E.load1(w3, i))
        d0 += v * x[i]; d1 += v * x[n + i]; d2 += v * x[2 * n + i]; d3 += v * x[3 * n + i]
        i += 1
    }
    return (d0, d1, d2, d3)
}

@inline(__always)
private func store(_ p: UnsafeMutablePointer<Float>, _ v: Float, _ accumulate: Bool) {
    p.pointee = accumulate ? p.pointee + v : v
}

@inline(__always)
private func store4(_ p: UnsafeMutablePointer<Float>, _ v: SIMD4<Float>, _ accumulate: Bool) {
    let raw = UnsafeMutableRawPointer(p)
    raw.storeBytes(of: accumulate ? raw.loadUnaligned(as: SIMD4<Float>.self) + v : v, as: SIMD4<Float>.self)
}

/// Σ w[i]·x[i] over `n` packed weights; four accumulators hide the add latency. (Also the attention's f32 dot product.)
@inline(__always)
package func packedDot<E: PackedElements>(_: E.Type, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 64 <= n {
        a0 = muladd(a0, E.load16(w, i), xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a1 = muladd(a1, E.load16(w, i + 16), xr.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self))
        a2 = muladd(a2, E.load16(w, i + 32), xr.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self))
        a3 = muladd(a3, E.load16(w, i + 48), xr.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self))
        i += 64
    }
    while i + 16 <= n {
        a0 = muladd(a0, E.load16(w, i), xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        i += 16
    }
    var sum = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { sum += E.load1(w, i) * x[i]; i += 1 }
    return sum
}

/// The dot products of one packed weight row with four consecutive input rows, widening each weight once.
@inline(__always)
private func dot4<E: PackedElements>(_: E.Type, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
    let x0 = UnsafeRawPointer(x), x1 = UnsafeRawPointer(x + n), x2 = UnsafeRawPointer(x + 2 * n), x3 = UnsafeRawPointer(x + 3 * n)
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let wv = E.load16(w, i)
        a0 = muladd(a0, wv, x0.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a1 = muladd(a1, wv, x1.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a2 = muladd(a2, wv, x2.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        a3 = muladd(a3, wv, x3.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self))
        i += 16
    }
    var d = sums(a0, a1, a2, a3)
    while i < n {
        let wf = E.load1(w, i)
        d += SIMD4(wf * x[i], wf * x[n + i], wf * x[2 * n + i], wf * x[3 * n + i])
        i += 1
    }
    return d
}

/// Rows from which AVX-512 machines run a product through `t5k_gemm_avx512` on the pool instead of the tile kernels
/// or sgemm (unless the rows must stay independent). Single-thread rates on 1024x512 weights: f32 tiles ~44 GFLOP/s at
/// any row count, the gemm 78 at 16 rows and 110 from 256; int8/bf16 tiles ~100, the gemm ahead from 48 rows
/// (PERFORMANCE.md, "Encoder products on the pool").
@inline(__always)
package func gemmMinRows(_ format: PackedFormat) -> Int {
    format == .f32 ? poolMaxRows(.f32, .avx512) + 1 : 48
}

/// `y = x · wᵀ (+ y)` by the packed-panel kernel, output columns split across the pool in whole panels of 32.
private func gemmOnPool(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: PackedMatrix, into y: UnsafeMutablePointer<Float>, ldy: Int,
    accumulate: Bool, pool: WorkerPool
) {
    var job = T5KLinear(x: x, w: w.values, scales: w.scales, y: y, rows: rows, in: w.inFeatures, out: w.outFeatures,
                        format: w.format.kernelCode, accumulate: accumulate ? 1 : 0,
                        ldx: ldx, ldw: w.inFeatures, ldy: ldy)
    // One panel per claim: a panel is tens of microseconds of work at encoder sizes, a claim ~100 ns, and larger
    // chunks left one thread idle at the end of a 36-panel product (q/k/v of flan-t5-small).
    withUnsafePointer(to: &job) { p in
        pool.parallelFor(count: w.outFeatures, chunk: 32, context: UnsafeRawPointer(p)) { context, begin, end in
            _ = t5k_gemm_avx512(context.assumingMemoryBound(to: T5KLinear.self), begin, end)
        }
    }
}

/// Many rows: widen a panel of output rows to f32 and let sgemm do the arithmetic; the widening is
/// `out·in` work against `rows·out·in` for the product. The C kernels widen (the Swift loop builds at baseline SSE2).
private func packedLinearBySgemm(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: PackedMatrix, into y: UnsafeMutablePointer<Float>, ldy: Int,
    accumulate: Bool, level: InstructionSet
) {
    let n = w.inFeatures, out = w.outFeatures
    // Each sgemm call packs all of `x` again: with many rows that costs more than a large scratch
    // (PERFORMANCE.md, "Narrow formats no slower than f32").
    let panel = min(out, max(256, rows))
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: panel * n)
    defer { scratch.deallocate() }
    var job = T5KLinear(x: x, w: w.values, scales: w.scales, y: y, rows: rows, in: n, out: out,
                        format: w.format.kernelCode, accumulate: 0, ldx: n, ldw: n, ldy: out)
    var o0 = 0
    while o0 < out {
        let p = min(panel, out - o0)
        let widened: Int32
        switch level {
        case .avx512: widened = t5k_widen_avx512(&job, o0, o0 + p, scratch)
        case .avx2: widened = t5k_widen_avx2(&job, o0, o0 + p, scratch)
        case .portable: widened = 0
        }
        if widened == 0 {
            for o in 0..<p { packedRow(w, o0 + o, into: scratch + o * n) }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(p), Int32(n),
                    1, x, Int32(ldx), scratch, Int32(n), accumulate ? 1 : 0, y + o0, Int32(ldy))
        o0 += p
    }
}

/// `dst = widen(values[row]) * scale(row)`: one row as f32 (the embedding lookup, the sgemm panels).
package func packedRow(_ w: PackedMatrix, _ row: Int, into dst: UnsafeMutablePointer<Float>) {
    switch w.format {
    case .f32: widenRow(F32Elements.self, w, row, into: dst)
    case .int8: widenRow(Int8Elements.self, w, row, into: dst)
    case .bf16: widenRow(BF16Elements.self, w, row, into: dst)
    case .f16: widenRow(F16Elements.self, w, row, into: dst)
    }
}

@inline(__always)
private func widenRow<E: PackedElements>(_: E.Type, _ w: PackedMatrix, _ row: Int, into dst: UnsafeMutablePointer<Float>) {
    let n = w.inFeatures, s = w.scale(row), src = w.values + row * n * E.bytes
    let d = UnsafeMutableRawPointer(dst)
    var i = 0
    while i + 16 <= n {
        d.storeBytes(of: E.load16(src, i) * s, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    while i < n { dst[i] = E.load1(src, i) * s; i += 1 }
}

extension PackedFormat {
    /// The format's code in the C kernels' `T5KLinear`.
    var kernelCode: Int32 {
        switch self {
        case .f32: Int32(T5K_F32)
        case .int8: Int32(T5K_INT8)
        case .bf16: Int32(T5K_BF16)
        case .f16: Int32(T5K_F16)
        }
    }
}
