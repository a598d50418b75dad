// The f16 cache kernels: F16C (C) and portable Swift widening give the same products, for row counts and widths
// that exercise the vector bodies and the scalar tails.
import Testing
@testable import T5Kernels

@Suite struct CacheAttentionKernelTests {
    @Test(.enabled(if: InstructionSet.best != .portable, "needs AVX2 + F16C"), arguments: [(1, 64), (37, 64), (5, 23), (9, 8)])
    func f16F16CEqualsPortableWidening(_ shape: (Int, Int)) {
        let (m, n) = shape, lda = n + 5
        var rng = SystemRandomNumberGenerator()
        let a: [UInt16] = (0..<(m * lda)).map { _ in Float16(Float.random(in: -4...4, using: &rng)).bitPattern }
        let x: [Float] = (0..<max(m, n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var fast = [Float](repeating: 0, count: max(m, n)), portable = fast
        a.withUnsafeBytes { raw in
            x.withUnsafeBufferPointer { xp in
                let a = raw.baseAddress!, x = xp.baseAddress!
                fast.withUnsafeMutableBufferPointer { f16MatvecF16C(a, lda: lda, rows: m, cols: n, x, into: $0.baseAddress!) }
                portable.withUnsafeMutableBufferPointer {
                    packedMatvec(F16Elements.self, a, rowBytes: 2 * lda, rows: m, cols: n, scales: nil, scaleStride: 0, x, into: $0.baseAddress!)
                }
                #expect(zip(fast.prefix(m), portable.prefix(m)).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "matvec \(m)x\(n)")
                fast.withUnsafeMutableBufferPointer { f16MatvecTransposedF16C(a, lda: lda, rows: m, cols: n, x, into: $0.baseAddress!) }
                portable.withUnsafeMutableBufferPointer {
                    packedMatvecTransposed(F16Elements.self, a, rowBytes: 2 * lda, rows: m, cols: n, scales: nil, scaleStride: 0, x, into: $0.baseAddress!)
                }
                #expect(zip(fast.prefix(n), portable.prefix(n)).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "transposed \(m)x\(n)")
            }
        }
    }
}
