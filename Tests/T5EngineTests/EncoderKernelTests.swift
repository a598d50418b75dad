// The encoder's AVX-512 pool kernels (packed-panel products, attention per head, RMS norm, gated activation), each
// against a double-precision reference or the portable Swift pass it replaces. On a CPU without AVX-512 the wrappers
// fall back to the Swift passes, and the C-only checks are skipped.
import Foundation
import Testing
@testable import T5Engine

@Suite struct EncoderKernelTests {
    static let avx512 = InstructionSet.avx512.isSupported

    /// Panels beyond the k-block (n > 256, not a multiple of 16), a partial last panel, a row tail under the 8-row
    /// tile, rows read `ldx` apart, and accumulation, for every weight format.
    @Test(arguments: [(61, 531, 70, 600), (48, 64, 32, 64), (130, 300, 33, 301)])
    func panelProductMatchesNaive(_ shape: (rows: Int, n: Int, out: Int, ldx: Int)) {
        let (rows, n, out, ldx) = shape
        guard Self.avx512 else { return }
        let x = Int8AndConvertTests.values(rows * ldx, seed: 21)
        let pool = WorkerPool(threads: 2, instructionSet: .avx512)
        defer { pool.shutdown() }
        for format in KernelLevelTests.formats {
            #expect(rows >= gemmMinRows(format))
            let m = KernelLevelTests.matrix(format, out: out, n: n)
            var y = [Float](repeating: 0.25, count: rows * out)
            m.bytes.withUnsafeBytes { raw in
                m.scales.withUnsafeBufferPointer { s in
                    let matrix = PackedMatrix(values: raw.baseAddress!, format: format,
                                              scales: format == .int8 ? s.baseAddress : nil, outFeatures: out, inFeatures: n)
                    packedLinear(x, rows: rows, ldx: ldx, matrix, into: &y, accumulate: true, pool: pool)
                }
            }
            let worst = KernelLevelTests.worstError(y, start: 0.25, widened: m.widened, x: x, ldx: ldx, rows: rows,
                                                    out: out, n: n)
            #expect(worst < 2e-6, "\(format) \(shape)")
        }
    }

    /// One head: n positions (under, at and over a 32-key panel, not multiples of 16), d_kv under and over one
    /// vector, heads read in place from rows `ld` apart; against softmax(q·kᵀ + bias)·v in double precision.
    @Test(arguments: [(1, 64), (5, 8), (40, 64), (77, 20)])
    func attentionHeadMatchesNaive(_ shape: (n: Int, dkv: Int)) {
        let (n, dkv) = shape
        guard Self.avx512 else { return }
        let ld = 3 * dkv + 5, ldc = dkv + 3
        let qkv = Int8AndConvertTests.values(n * ld, seed: 22).map { $0 * 3 }
        let bias = Int8AndConvertTests.values(2 * n - 1, seed: 23)   // offset j - i at bias[j - i + n - 1]
        var ctx = [Float](repeating: 7, count: n * ldc)
        var scores = [Float](repeating: 0, count: n * n)
        var panels = [Float](repeating: 0, count: packedKeyFloats(n: n, dkv: dkv))
        let pool = WorkerPool(threads: 2, instructionSet: .avx512)
        defer { pool.shutdown() }
        qkv.withUnsafeBufferPointer { p in
            bias.withUnsafeBufferPointer { b in
                encoderAttentionPacked(q: p.baseAddress!, k: p.baseAddress! + dkv, v: p.baseAddress! + 2 * dkv, ld: ld,
                                       ctx: &ctx, ldc: ldc, scores: &scores, keyPanels: &panels,
                                       biasRow0: b.baseAddress! + (n - 1), n: n, dkv: dkv, pool: pool)
            }
        }
        for i in 0..<n {
            var s = (0..<n).map { j -> Double in
                var d = Double(bias[j - i + n - 1])
                for t in 0..<dkv { d += Double(qkv[i * ld + t]) * Double(qkv[j * ld + dkv + t]) }
                return d
            }
            let m = s.max()!
            s = s.map { exp($0 - m) }
            let sum = s.reduce(0, +)
            for t in 0..<dkv {
                let e = (0..<n).reduce(0.0) { $0 + s[$1] / sum * Double(qkv[$1 * ld + 2 * dkv + t]) }
                #expect(abs(Double(ctx[i * ldc + t]) - e) < 1e-5, "n \(n) dkv \(dkv) query \(i) dim \(t)")
            }
            for t in dkv..<ldc { #expect(ctx[i * ldc + t] == 7, "written outside the head") }
        }
    }

    @Test(arguments: [512, 77])
    func pooledRMSNormMatchesTheLoop(dim: Int) {
        let rows = 37
        let x = Int8AndConvertTests.values(rows * dim, seed: 24), w = Int8AndConvertTests.values(dim, seed: 25)
        var loop = [Float](repeating: 0, count: rows * dim), pooled = loop
        rmsNorm(x, rows: rows, dim: dim, weight: w, eps: 1e-6, into: &loop)
        let pool = WorkerPool(threads: 2, instructionSet: .best)
        defer { pool.shutdown() }
        rmsNorm(x, rows: rows, dim: dim, weight: w, eps: 1e-6, into: &pooled, pool: pool)
        for i in 0..<(rows * dim) { #expect(abs(loop[i] - pooled[i]) <= 2e-6 * max(1, abs(loop[i])), "element \(i)") }
    }

    /// Every activation, widths with and without a vector tail: the pooled pass leaves each result row where it says.
    @Test(arguments: [1024, 37])
    func pooledGatedActivationMatchesTheLoop(width: Int) {
        let rows = 19
        let pair = Int8AndConvertTests.values(rows * 2 * width, seed: 26).map { $0 * 4 }
        let pool = WorkerPool(threads: 2, instructionSet: .best)
        defer { pool.shutdown() }
        for activation in [T5Activation.relu, .geluTanh, .silu, .gelu] {
            var loop = pair, pooled = pair
            gatedActivate(&loop, rows: rows, width: width, activation)
            let ld = gatedActivate(&pooled, rows: rows, width: width, activation, pool: pool)
            #expect(ld == width || ld == 2 * width)
            for r in 0..<rows {
                for i in 0..<width {
                    let a = loop[r * width + i], b = pooled[r * ld + i]
                    #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "\(activation) row \(r) column \(i)")
                }
            }
        }
    }
}
