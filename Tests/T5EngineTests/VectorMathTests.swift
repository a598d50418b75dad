// The vectorised exp and the kernels built on it, against libm in double precision.
import Foundation
import Testing
@testable import T5Engine

@Suite struct VectorMathTests {
    /// exp16 over the whole useful range, 16 lanes of different values per call, within 4 ulp-equivalents (5e-7 relative).
    @Test func exp16IsWithinAFewUlpOfLibm() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            var v = SIMD16<Float>()
            for i in 0..<16 { v[i] = x + Float(i) * 0.0037 }
            let r = exp16(v)
            for i in 0..<16 {
                let e = Foundation.exp(Double(v[i]))
                worst = max(worst, abs(Double(r[i]) - e) / e)
            }
            x += 0.0591
        }
        #expect(worst < 5e-7, "worst relative error \(worst)")
    }

    @Test func exp16EdgeCases() {
        var v = SIMD16<Float>(repeating: 0)
        v[0] = -.infinity; v[1] = -100; v[2] = .infinity; v[3] = 100; v[4] = .nan; v[5] = 0; v[6] = -0.0
        let r = exp16(v)
        #expect(r[0] == 0 && r[1] == 0)
        #expect(r[2] == .infinity && r[3] == .infinity)
        #expect(r[4].isNaN)
        #expect(r[5] == 1 && r[6] == 1)
    }

    /// Rows of every length 1...70 (full vectors and tails), with a masked key, sum to 1 and match the double softmax.
    @Test func softmaxMatchesDoublePrecision() {
        for n in 1...70 {
            var row = (0..<n).map { Float(sin(Double($0) * 1.7) * 9) }
            if n > 3 { row[2] = -.infinity }
            let ref: [Double] = {
                let m = row.map(Double.init).max()!
                let e = row.map { Foundation.exp(Double($0) - m) }
                let s = e.reduce(0, +)
                return e.map { $0 / s }
            }()
            row.withUnsafeMutableBufferPointer { softmax($0.baseAddress!, count: n) }
            if n > 3 { #expect(row[2] == 0, "masked key gets exactly zero weight") }
            for i in 0..<n { #expect(abs(Double(row[i]) - ref[i]) < 1e-6, "n \(n) i \(i)") }
        }
    }

    /// gelu_new and SiLU against their textbook formulas in double, over [-12, 12] and a tail length.
    @Test(arguments: [T5Activation.geluTanh, .silu])
    func activationMatchesFormula(_ activation: T5Activation) {
        let n = 16 * 150 + 7
        var x = (0..<n).map { Float(-12 + 24 * Double($0) / Double(n - 1)) }
        let input = x
        x.withUnsafeMutableBufferPointer { activate($0.baseAddress!, count: n, activation) }
        for i in 0..<n {
            let v = Double(input[i])
            let e: Double = activation == .silu
                ? v / (1 + Foundation.exp(-v))
                : 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
            #expect(abs(Double(x[i]) - e) <= 1e-6 * max(1, abs(e)), "x \(v)")
        }
    }

    @Test func foldedSumsEqualSeparateSums() {
        var v = [SIMD16<Float>](repeating: SIMD16(), count: 4)
        for k in 0..<4 {
            for i in 0..<16 { v[k][i] = Float((i + 1) * (k + 3) % 17) - 8 }
        }
        let s = sums(v[0], v[1], v[2], v[3])
        for k in 0..<4 { #expect(s[k] == v[k].sum(), "vector \(k)") }
    }
}
