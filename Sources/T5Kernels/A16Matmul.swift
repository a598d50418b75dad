// The default int8 decode product on x86-64 with AVX2 or AVX-512: int8 weights times input rows rounded to 16-bit
// integers, one scale per row, summed exactly in 32-bit integers (linear_a16.c): `vpdpwssd` on AVX-512 VNNI,
// `vpmaddwd` elsewhere. 1.5-1.9x the f32-activation int8 tiles at 8 rows and at one row; the rounding is at least 12
// times finer than the weights' own (PERFORMANCE.md, "int8 decode with 16-bit activations"). The portable level
// (arm64, `--kernels portable`) keeps f32 activations.
import CT5Kernels
import T5Tensor

/// Integer kernels that replace f32 arithmetic in a model's int8 products, where they run: what `t5 bench` bounds
/// those products by (`MachinePeaks.int8OpsPerSecond`).
public enum IntegerKernels: String, Sendable {
    /// The opt-in `int8Activations` mode: every int8 product, int8 activations (W8A8Matmul.swift).
    case w8a8 = "int8 activations (W8A8)"
    /// The default int8 decode products with AVX2 or AVX-512: 16-bit activations (this file). Long prompts keep f32
    /// ones.
    case a16 = "16-bit activations in decode"

    /// What a model with int8 weights (`int8Weights`) runs at `level`.
    public static func used(int8Weights: Bool, int8Activations: Bool, level: InstructionSet) -> IntegerKernels? {
        guard int8Weights else { return nil }
        if int8Activations { return .w8a8 }
        return level != .portable ? .a16 : nil
    }
}

/// Whether an int8 product of `w` that runs on the pool's tile kernels takes 16-bit activations at `level`.
@inline(__always)
package func usesA16(_ w: PackedMatrix, _ level: InstructionSet) -> Bool {
    w.format == .int8 && w.rowSums == nil && w.scales != nil && level != .portable
}

/// `y[rows, out] = round16(x) · wᵀ (+ y when accumulate)` for an int8 matrix (`usesA16`); rows of `y` `ldy` apart.
package func a16Linear(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ w: PackedMatrix, into y: UnsafeMutablePointer<Float>, ldy: Int,
    accumulate: Bool, pool: WorkerPool
) {
    a16Products(x, rows: rows, ldx: ldx, (w, y), nil, nil, ldy: ldy, accumulate: accumulate, pool: pool)
}

/// Two or three products of the same input (q/k/v, wi_0/wi_1): the rows are rounded once and the products share one
/// pool dispatch. Each output is exactly what `a16Linear` gives.
package func a16LinearGroup(
    _ x: UnsafePointer<Float>, rows: Int, _ w0: PackedMatrix, into y0: UnsafeMutablePointer<Float>,
    _ w1: PackedMatrix, into y1: UnsafeMutablePointer<Float>, _ third: (PackedMatrix, UnsafeMutablePointer<Float>)?,
    pool: WorkerPool
) {
    a16Products(x, rows: rows, ldx: w0.inFeatures, (w0, y0), (w1, y1), third, ldy: nil, accumulate: false, pool: pool)
}

/// The products `parts` (same `inFeatures`); `ldy` nil: each `y` dense (`outFeatures` apart).
private func a16Products(
    _ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ p0: (PackedMatrix, UnsafeMutablePointer<Float>),
    _ p1: (PackedMatrix, UnsafeMutablePointer<Float>)?, _ p2: (PackedMatrix, UnsafeMutablePointer<Float>)?,
    ldy: Int?, accumulate: Bool, pool: WorkerPool
) {
    let n = p0.0.inFeatures
    // The rounded rows and their scales, on the stack for decode-sized calls (no allocation per step).
    let scaleOffset = (2 * rows * n + 63) & ~63
    withUnsafeTemporaryAllocation(byteCount: scaleOffset + rows * 4, alignment: 64) { scratch in
        let base = scratch.baseAddress!
        let q = base.assumingMemoryBound(to: Int16.self), xs = (base + scaleOffset).assumingMemoryBound(to: Float.self)
        // VNNI where the CPU has it at the AVX-512 level; the AVX2 code otherwise (AVX-512 without VNNI included).
        let vnni = pool.instructionSet == .avx512 && cpuHasVNNI
        let rounded = vnni ? t5k_quantize_a16_avx512(x, ldx, rows, n, q, xs) : t5k_quantize_a16_avx2(x, ldx, rows, n, q, xs)
        if rounded == 0 { t5k_quantize_a16_plain(x, ldx, rows, n, q, xs) }
        func part(_ p: (PackedMatrix, UnsafeMutablePointer<Float>)) -> T5KLinearA16 {
            let (w, y) = p
            guard let scales = w.scales, w.format == .int8, w.inFeatures == n else {
                preconditionFailure("a16Linear: the matrix is not int8 with scales, or its width differs")
            }
            return T5KLinearA16(xq: q, xscales: xs, w: w.values.assumingMemoryBound(to: Int8.self), wscales: scales,
                                y: y, rows: rows, in: n, out: w.outFeatures, ldy: ldy ?? w.outFeatures,
                                accumulate: accumulate ? 1 : 0)
        }
        let first = part(p0)
        var jobs = (first, p1.map(part) ?? first, p2.map(part) ?? first)
        let kernel: @convention(c) (UnsafeRawPointer, Int, Int) -> Void
        if vnni {
            kernel = { job, begin, end in
                let j = job.assumingMemoryBound(to: T5KLinearA16.self)
                if t5k_linear_a16_vnni(j, begin, end) == 0 { t5k_linear_a16_plain(j, begin, end) }
            }
        } else {
            kernel = { job, begin, end in
                let j = job.assumingMemoryBound(to: T5KLinearA16.self)
                if t5k_linear_a16_avx2(j, begin, end) == 0 { t5k_linear_a16_plain(j, begin, end) }
            }
        }
        GroupedProducts.run(&jobs, outputs: (jobs.0.out, jobs.1.out, jobs.2.out), count: p2 != nil ? 3 : p1 != nil ? 2 : 1,
                            pool: pool, kernel)
    }
}
