// The linear-layer kernels at every instruction-set level this CPU runs (portable Swift, C for AVX2 and AVX-512):
// each against a naive product over the exactly widened weights, and the C kernels' promise that a row's result is the
// same bits whichever other rows share the call (continuous batching relies on it: greedy ids alone == in a batch).
import Foundation
import Testing
@testable import T5Engine

@Suite struct KernelLevelTests {
    static let levels = InstructionSet.allCases.filter(\.isSupported)
    static let formats: [PackedFormat] = [.f32, .int8, .bf16, .f16]

    /// A `[out, n]` matrix in `format` (weights in about [-1, 1], f16 with some subnormals), its widened f32 values
    /// (scale applied), and the int8 scales.
    static func matrix(_ format: PackedFormat, out: Int, n: Int) -> (bytes: [UInt8], widened: [Float], scales: [Float]) {
        let w = Int8AndConvertTests.values(out * n, seed: 11)
        switch format {
        case .f32:
            return (w.withUnsafeBytes { Array($0) }, w, [])
        case .int8:
            var q = [Int8](repeating: 0, count: out * n), scales = [Float](repeating: 0, count: out)
            Int8Quantize.quantize(w, rows: out, cols: n, values: &q, scales: &scales)
            let widened = (0..<(out * n)).map { Float(q[$0]) * scales[$0 / n] }
            return (q.withUnsafeBytes { Array($0) }, widened, scales)
        case .bf16:
            let bits = w.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
            return (bits.withUnsafeBytes { Array($0) }, bits.map(FloatWidening.float(fromBF16:)), [])
        case .f16:
            // Every 7th weight a subnormal (as real f16 checkpoints have a few).
            let bits = w.enumerated().map { i, v -> UInt16 in
                i % 7 == 0 ? UInt16(i % 1023 + 1) | (v < 0 ? 0x8000 : 0) : f16Bits(v)
            }
            return (bits.withUnsafeBytes { Array($0) }, bits.map(FloatWidening.float(fromF16:)), [])
        }
    }

    /// Nearest-below f16 bits of a value in [-1, 1] (normal range only; exactness comes from widening them back).
    static func f16Bits(_ v: Float) -> UInt16 {
        let b = v.bitPattern, sign = UInt16(b >> 16) & 0x8000
        let exponent = Int((b >> 23) & 0xFF) - 127 + 15
        guard exponent > 0 else { return sign }
        return sign | UInt16(exponent) << 10 | UInt16((b >> 13) & 0x3FF)
    }

    static func run(_ level: InstructionSet, _ format: PackedFormat, _ m: (bytes: [UInt8], widened: [Float], scales: [Float]),
                    x: [Float], rows: Int, out: Int, n: Int, accumulateOnto start: Float?,
                    rowIndependent: Bool = true) -> [Float] {
        var y = [Float](repeating: start ?? 0, count: rows * out)
        let pool = WorkerPool(threads: 2, instructionSet: level)
        defer { pool.shutdown() }
        m.bytes.withUnsafeBytes { raw in
            m.scales.withUnsafeBufferPointer { s in
                let matrix = PackedMatrix(values: raw.baseAddress!, format: format, scales: format == .int8 ? s.baseAddress : nil,
                                          outFeatures: out, inFeatures: n)
                packedLinear(x, rows: rows, matrix, into: &y, accumulate: start != nil, pool: pool,
                             rowIndependent: rowIndependent)
            }
        }
        return y
    }

    /// The largest |y - (start + x · wᵀ)| over `y`'s outputs, each relative to 1 + Σ|w| of its row, the reference in
    /// double precision over the exactly widened weights; rows of `x` `ldx` apart.
    static func worstError(_ y: [Float], start: Double, widened: [Float], x: [Float], ldx: Int, rows: Int, out: Int,
                           n: Int) -> Double {
        var worst: Double = 0
        for r in 0..<rows {
            for o in 0..<out {
                var e = start, mag: Double = 1
                for i in 0..<n {
                    e += Double(widened[o * n + i]) * Double(x[r * ldx + i]); mag += abs(Double(widened[o * n + i]))
                }
                worst = max(worst, abs(Double(y[r * out + o]) - e) / mag)
            }
        }
        return worst
    }

    /// The error a decode product may have per unit of Σ|w|: f32 rounding, plus for int8 with 16-bit activations
    /// (A16Matmul.swift, AVX2 and AVX-512) half a rounding step of the row, max|x| / (2 · levels).
    static func tolerance(_ level: InstructionSet, _ format: PackedFormat, _ row: ArraySlice<Float>) -> Double {
        guard format == .int8, level != .portable else { return 2e-6 }
        return 2e-6 + Double(row.map(abs).max()!) / (2 * Double(A16Tests.levels(row.count)))
    }

    /// Widths that are and are not multiples of the vector lengths; row counts across every tile shape.
    @Test(arguments: [(1, 64), (2, 77), (3, 512), (5, 130), (8, 96), (13, 33), (20, 144)])
    func everyLevelMatchesNaive(_ shape: (rows: Int, n: Int)) {
        let (rows, n) = shape, out = 45
        let x = Int8AndConvertTests.values(rows * n, seed: 12)
        for level in Self.levels {
            for format in Self.formats {
                let m = Self.matrix(format, out: out, n: n)
                let y = Self.run(level, format, m, x: x, rows: rows, out: out, n: n, accumulateOnto: 0.5)
                for r in 0..<rows {
                    for o in 0..<out {
                        var e: Double = 0.5, mag: Double = 1
                        for i in 0..<n {
                            e += Double(m.widened[o * n + i]) * Double(x[r * n + i]); mag += abs(Double(m.widened[o * n + i]))
                        }
                        #expect(abs(Double(y[r * out + o]) - e) < Self.tolerance(level, format, x[(r * n)..<(r * n + n)]) * mag,
                                "\(level) \(format) row \(r) out \(o)")
                    }
                }
            }
        }
    }

    /// More rows than the pool kernels take (the encoder's long prompts): widened panels + sgemm, the panel widened
    /// by each level's code, or on AVX-512 the packed-panel kernel; a width that is not a multiple of 16, and outputs
    /// spanning several panels.
    @Test(arguments: [(300, 203, 45), (300, 40, 700)])
    func manyRowsGoThroughWidenedPanels(_ shape: (rows: Int, n: Int, out: Int)) {
        let (rows, n, out) = shape
        let x = Int8AndConvertTests.values(rows * n, seed: 14)
        for level in Self.levels {
            for format in Self.formats {
                #expect(rows > poolMaxRows(format, level))
                let m = Self.matrix(format, out: out, n: n)
                let y = Self.run(level, format, m, x: x, rows: rows, out: out, n: n, accumulateOnto: 0.5,
                                 rowIndependent: false)
                let worst = Self.worstError(y, start: 0.5, widened: m.widened, x: x, ldx: n, rows: rows, out: out, n: n)
                #expect(worst < 2e-6, "\(level) \(format)")
            }
        }
    }

    /// Row r of a batch equals, bit for bit, row r computed alone, for every C level and format.
    @Test(arguments: [2, 3, 4, 7, 8, 9, 17, 33])
    func cKernelRowsAreIndependentOfTheBatch(rows: Int) {
        let n = 160, out = 72
        let x = Int8AndConvertTests.values(rows * n, seed: 13)
        for level in Self.levels where level != .portable {
            for format in Self.formats {
                let m = Self.matrix(format, out: out, n: n)
                let batched = Self.run(level, format, m, x: x, rows: rows, out: out, n: n, accumulateOnto: nil)
                for r in 0..<rows {
                    let alone = Self.run(level, format, m, x: Array(x[(r * n)..<((r + 1) * n)]), rows: 1, out: out, n: n,
                                         accumulateOnto: nil)
                    #expect(alone.map(\.bitPattern) == batched[(r * out)..<((r + 1) * out)].map(\.bitPattern),
                            "\(level) \(format) row \(r) of \(rows)")
                }
            }
        }
    }

    /// Products grouped in one dispatch (a decode step's q/k/v, wi_0/wi_1) give each output exactly the bits of the
    /// products run one by one, for every level and format, two and three parts, outputs not multiples of 8.
    @Test(arguments: [1, 3, 8])
    func groupedProductsEqualSeparateOnes(rows: Int) {
        let n = 96, outs = [40, 72, 20]
        let x = Int8AndConvertTests.values(rows * n, seed: 15)
        for level in Self.levels {
            let pool = WorkerPool(threads: 2, instructionSet: level)
            defer { pool.shutdown() }
            for format in Self.formats {
                let ms = outs.map { Self.matrix(format, out: $0, n: n) }
                // The matrices' bytes and scales, copied to memory that outlives the closures below.
                let bytes = ms.map { m -> UnsafeMutableRawPointer in
                    let p = UnsafeMutableRawPointer.allocate(byteCount: m.bytes.count, alignment: 64)
                    m.bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    return p
                }
                let scales = ms.map { m -> UnsafeMutablePointer<Float> in
                    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, m.scales.count))
                    p.initialize(from: m.scales + [0], count: max(1, m.scales.count))
                    return p
                }
                let w = (0..<3).map { i in
                    PackedMatrix(values: UnsafeRawPointer(bytes[i]), format: format, scales: format == .int8 ? UnsafePointer(scales[i]) : nil,
                                 outFeatures: outs[i], inFeatures: n)
                }
                let separate = outs.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0) }
                let grouped = outs.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0) }
                let two = outs.prefix(2).map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0) }
                defer { (bytes).forEach { $0.deallocate() }; scales.forEach { $0.deallocate() }
                        (separate + grouped + two).forEach { $0.deallocate() } }
                for i in 0..<3 {
                    packedLinear(x, rows: rows, w[i], into: separate[i], accumulate: false, pool: pool, rowIndependent: true)
                }
                packedLinearGroup(x, rows: rows, w[0], into: grouped[0], w[1], into: grouped[1], w[2], into: grouped[2],
                                  pool: pool, rowIndependent: true)
                packedLinearGroup(x, rows: rows, w[0], into: two[0], w[1], into: two[1], pool: pool, rowIndependent: true)
                func bits(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> [UInt32] { (0..<(rows * outs[i])).map { p[$0].bitPattern } }
                for i in 0..<3 {
                    #expect(bits(grouped[i], i) == bits(separate[i], i), "\(level) \(format) part \(i) of 3")
                }
                for i in 0..<2 {
                    #expect(bits(two[i], i) == bits(separate[i], i), "\(level) \(format) part \(i) of 2")
                }
            }
        }
    }

    /// The KV caches' stores in C (AVX-512) against their Swift definitions, bit for bit: int8 rows (ties at .5 both
    /// ways, NaN, ±inf, all-zero rows, widths around 16) and f16 (overflow, subnormals, ties, NaN, ±inf).
    @Test func cacheStoresMatchTheirDefinitions() {
        var rng = SystemRandomNumberGenerator()
        for cols in [1, 15, 16, 17, 64, 77] {
            var x = (0..<(8 * cols)).map { _ in Float.random(in: -3...3, using: &rng) }
            // Row 1: max 127 (scale 1), so k + 0.5 values are exact ties; row 2 all zero; rows 3-5 one special each.
            for i in 0..<cols { x[cols + i] = Float(i % 11) - 5.5 }
            x[cols] = 127
            for i in 0..<cols { x[2 * cols + i] = 0 }
            x[3 * cols + cols / 2] = .nan
            x[4 * cols] = .infinity
            x[5 * cols + cols - 1] = -.infinity
            var slow = [Int8](repeating: 0, count: x.count), slowScales = [Float](repeating: 0, count: 8)
            Int8Quantize.quantize(x, rows: 8, cols: cols, values: &slow, scales: &slowScales, level: .portable)
            for level in Self.levels {
                var fast = [Int8](repeating: 0, count: x.count), fastScales = [Float](repeating: 0, count: 8)
                Int8Quantize.quantize(x, rows: 8, cols: cols, values: &fast, scales: &fastScales, level: level)
                #expect(fast == slow, "int8 values at \(level), \(cols) columns")
                #expect(fastScales.map(\.bitPattern) == slowScales.map(\.bitPattern), "int8 scales at \(level), \(cols) columns")
            }
        }
        var y = (0..<300).map { _ in Float.random(in: -70000...70000, using: &rng) }
        y += [.nan, .infinity, -.infinity, 65504, 65520, -65519, 0, -0.0, 1e-8, -3e-6, 6.1e-5, 2049, 2051, 4097]
        y += (0..<50).map { _ in Float.random(in: -1e-4...1e-4, using: &rng) }
        for level in Self.levels {
            var h = [UInt16](repeating: 0, count: y.count), reference = h
            storeHalf(y, count: y.count, into: &h, level: level)
            storeHalf(y, count: y.count, into: &reference, level: .portable)
            #expect(h == reference, "f16 store at \(level)")
        }
    }

    @Test func bestLevelIsSupported() {
        #expect(InstructionSet.best.isSupported)
        #if arch(x86_64)
        // Every machine this project runs on has AVX2 (MACHINE.md); CI would catch a dispatch that never fires.
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" avx2 ") && flags.contains(" fma ") && flags.contains(" f16c ") {
            #expect(InstructionSet.best != .portable)
        }
        #endif
    }
}
