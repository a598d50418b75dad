// The cache attention kernels: f32 in C (every level this CPU runs) against a double-precision reference, and f16
// with F16C and int8 (C) against portable Swift widening, for row counts and widths that exercise the vector bodies, the
// sixteen-key (AVX-512), four-key and four-vector blocks and the scalar tails.
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

    /// int8 caches (one scale per row, `stride` apart as the heads interleave them) in C at every level, against the
    /// portable Swift loops.
    @Test(.enabled(if: InstructionSet.best != .portable, "needs AVX2"), arguments: [(1, 64), (37, 64), (130, 64), (5, 23), (9, 8), (6, 80), (35, 32), (20, 16)])
    func int8CKernelsMatchPortable(_ shape: (Int, Int)) {
        let (m, n) = shape, lda = n + 7, stride = 3
        var rng = SystemRandomNumberGenerator()
        let a: [Int8] = (0..<(m * lda)).map { _ in Int8.random(in: -127...127, using: &rng) }
        let scales: [Float] = (0..<(m * stride)).map { _ in Float.random(in: 0.001...0.05, using: &rng) }
        let x: [Float] = (0..<max(m, n)).map { _ in Float.random(in: -1...1, using: &rng) }
        for level in InstructionSet.allCases where level != .portable && level.isSupported {
            var fast = [Float](repeating: .nan, count: max(m, n) + 1), portable = fast
            a.withUnsafeBytes { raw in
                let a = raw.baseAddress!
                int8MatvecC(a, lda: lda, rows: m, cols: n, scales: scales, scaleStride: stride, x, into: &fast, level)
                packedMatvec(Int8Elements.self, a, rowBytes: lda, rows: m, cols: n, scales: scales, scaleStride: stride, x, into: &portable)
                #expect((0..<m).allSatisfy { abs(fast[$0] - portable[$0]) <= 1e-4 * max(1, abs(portable[$0])) }, "\(level) matvec \(m)x\(n)")
                #expect(fast[m].isNaN, "\(level) matvec wrote past row \(m)")
                // A key's score has the same bits whether it is reduced alone or in a block of keys.
                let alone: [Float] = (0..<m).map { i in
                    var one: Float = .nan
                    scales.withUnsafeBufferPointer { s in
                        int8MatvecC(a + i * lda, lda: lda, rows: 1, cols: n, scales: s.baseAddress! + i * stride,
                                    scaleStride: stride, x, into: &one, level)
                    }
                    return one
                }
                #expect(alone.map(\.bitPattern) == fast.prefix(m).map(\.bitPattern), "\(level) matvec \(m)x\(n) by blocks")
                fast = [Float](repeating: .nan, count: max(m, n) + 1)
                int8MatvecTransposedC(a, lda: lda, rows: m, cols: n, scales: scales, scaleStride: stride, x, into: &fast, level)
                packedMatvecTransposed(Int8Elements.self, a, rowBytes: lda, rows: m, cols: n, scales: scales, scaleStride: stride, x, into: &portable)
                #expect((0..<n).allSatisfy { abs(fast[$0] - portable[$0]) <= 1e-4 * max(1, abs(portable[$0])) }, "\(level) transposed \(m)x\(n)")
                #expect(fast[n].isNaN, "\(level) transposed wrote past column \(n)")
            }
        }
    }

    @Test(.enabled(if: InstructionSet.best != .portable, "needs AVX2"),
          arguments: [(1, 64), (4, 64), (37, 64), (130, 64), (5, 23), (9, 8), (6, 80), (3, 1), (33, 16), (16, 128)])
    func f32CKernelsMatchDoubleReference(_ shape: (Int, Int)) {
        let (m, n) = shape, lda = n + 3
        var rng = SystemRandomNumberGenerator()
        let a: [Float] = (0..<(m * lda)).map { _ in Float.random(in: -2...2, using: &rng) }
        let x: [Float] = (0..<max(m, n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let dots = (0..<m).map { i in (0..<n).reduce(0.0) { $0 + Double(a[i * lda + $1]) * Double(x[$1]) } }
        let weighted = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + Double(a[$1 * lda + j]) * Double(x[$1]) } }
        for level in InstructionSet.allCases where level != .portable && level.isSupported {
            var y = [Float](repeating: .nan, count: max(m, n) + 1)
            a.withUnsafeBufferPointer { ap in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { f32MatvecC(ap.baseAddress!, lda: lda, rows: m, cols: n, xp.baseAddress!, into: $0.baseAddress!, level) }
                    #expect((0..<m).allSatisfy { abs(Double(y[$0]) - dots[$0]) <= 1e-5 * Double(n) }, "\(level) matvec \(m)x\(n)")
                    #expect(y[m].isNaN, "\(level) matvec wrote past row \(m)")
                    let alone: [Float] = (0..<m).map { i in
                        var one: Float = .nan
                        f32MatvecC(ap.baseAddress! + i * lda, lda: lda, rows: 1, cols: n, xp.baseAddress!, into: &one, level)
                        return one
                    }
                    #expect(alone.map(\.bitPattern) == y.prefix(m).map(\.bitPattern), "\(level) matvec \(m)x\(n) by blocks")
                    y = [Float](repeating: .nan, count: max(m, n) + 1)
                    y.withUnsafeMutableBufferPointer { f32MatvecTransposedC(ap.baseAddress!, lda: lda, rows: m, cols: n, xp.baseAddress!, into: $0.baseAddress!, level) }
                    #expect((0..<n).allSatisfy { abs(Double(y[$0]) - weighted[$0]) <= 1e-5 * Double(m) }, "\(level) transposed \(m)x\(n)")
                    #expect(y[n].isNaN, "\(level) transposed wrote past column \(n)")
                }
            }
        }
    }
}
