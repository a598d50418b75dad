// The int8 / f32 SIMD kernels against naive loops, the worker pool's coverage, and `t5 convert` round trips.
import Foundation
import Testing
@testable import T5Engine

@Suite struct Int8AndConvertTests {
    /// Deterministic pseudo-random values in [-1, 1).
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 20_000) / 10_000 - 1
        }
    }

    /// (5, 768) and (14, 800): the blocked loop below 17 rows, with a leftover input row and weight rows.
    @Test(arguments: [(1, 77), (1, 512), (3, 100), (5, 64), (12, 130), (21, 130), (300, 40), (5, 768), (14, 800)])
    func int8LinearMatchesNaive(_ shape: (rows: Int, inFeatures: Int)) {
        let (rows, n) = shape, out = 300
        let w = Self.values(out * n, seed: 1), x = Self.values(rows * n, seed: 2)
        var q = [Int8](repeating: 0, count: out * n), scales = [Float](repeating: 0, count: out)
        Int8Quantize.quantize(w, rows: out, cols: n, values: &q, scales: &scales)
        var y = [Float](repeating: 0.5, count: rows * out)
        let pool = WorkerPool(threads: 2)
        defer { pool.shutdown() }
        q.withUnsafeBufferPointer { qp in
            scales.withUnsafeBufferPointer { sp in
                let m = PackedMatrix(values: UnsafeRawPointer(qp.baseAddress!), format: .int8, scales: sp.baseAddress!,
                                     outFeatures: out, inFeatures: n)
                packedLinear(x, rows: rows, m, into: &y, accumulate: true, pool: pool)
            }
        }
        for r in 0..<rows {
            // Decode-sized products with AVX2 or AVX-512 round the row to 16 bits (A16Matmul.swift): half a step per
            // input. (Many-row products on AVX2 go to sgemm, on AVX-512 to the panel kernel, with f32 activations.)
            let row = x[(r * n)..<(r * n + n)]
            let level = pool.instructionSet
            let step = level != .portable && rows <= (level == .avx512 ? gemmMinRows(.int8) - 1 : poolMaxRows(.int8, level))
                ? Double(row.map(abs).max()!) / (2 * Double(A16Tests.levels(n))) : 0
            for o in 0..<out {
                var expected: Double = 0.5, mag: Double = 0
                for i in 0..<n {
                    let w = Double(q[o * n + i]) * Double(scales[o])
                    expected += w * Double(x[r * n + i]); mag += abs(w)
                }
                #expect(abs(Double(y[r * out + o]) - expected) < 1e-4 * max(1, abs(expected)) + step * mag, "row \(r) out \(o)")
            }
        }
    }

    /// bf16 / f16 matrices used at half width: the kernels must equal the product with the exactly widened weights
    /// (FloatWidening, checked bit for bit elsewhere), for the pool path (1, 3, 13, 20, 23 rows) and the sgemm path (257, 260 rows).
    @Test(arguments: [(PackedFormat.bf16, 1), (.bf16, 3), (.bf16, 20), (.bf16, 260), (.f16, 1), (.f16, 13), (.f16, 23), (.f16, 257)])
    func halfLinearMatchesWidenedWeights(_ shape: (format: PackedFormat, rows: Int)) {
        let (format, rows) = shape, out = 70, n = 99
        // Bit patterns spread over the whole format, subnormals included; no inf/NaN (they would poison every sum).
        var bits = [UInt16](repeating: 0, count: out * n)
        var s: UInt32 = 12345
        for i in bits.indices {
            s = s &* 1_103_515_245 &+ 12345
            var b = UInt16(truncatingIfNeeded: s >> 8)
            if format == .f16 { b = (b & 0x83FF) | (UInt16((s >> 3) % 23) << 10) }          // exponents 0...22: |w| < 2^8
            else { b = (b & 0x807F) | (UInt16(100 + (s >> 3) % 40) << 7) }                  // exponents 100...139
            bits[i] = b
        }
        let widened = bits.map { format == .f16 ? FloatWidening.float(fromF16: $0) : FloatWidening.float(fromBF16: $0) }
        let x = Self.values(rows * n, seed: 9)
        var y = [Float](repeating: 0.25, count: rows * out)
        let pool = WorkerPool(threads: 2)
        defer { pool.shutdown() }
        bits.withUnsafeBytes { raw in
            let m = PackedMatrix(values: raw.baseAddress!, format: format, scales: nil, outFeatures: out, inFeatures: n)
            packedLinear(x, rows: rows, m, into: &y, accumulate: true, pool: pool)
            var row = [Float](repeating: 0, count: n)
            packedRow(m, out - 1, into: &row)
            #expect(row == Array(widened[((out - 1) * n)...]), "row widening is exact")
        }
        for r in 0..<rows {
            for o in 0..<out {
                var e: Double = 0.25, mag: Double = 1
                for i in 0..<n { e += Double(widened[o * n + i]) * Double(x[r * n + i]); mag += abs(Double(widened[o * n + i])) }
                #expect(abs(Double(y[r * out + o]) - e) < 1e-5 * mag, "row \(r) out \(o)")
            }
        }
    }

    /// The SIMD widening of the kernels equals the scalar, exact widening bit for bit, for all 65,536 patterns.
    @Test func simdHalfWideningIsExactForEveryBitPattern() {
        let all = (0...UInt16.max).map { $0 }
        all.withUnsafeBytes { raw in
            for i in stride(from: 0, to: all.count, by: 16) {
                let f16 = F16Elements.load16(raw.baseAddress!, i), bf16 = BF16Elements.load16(raw.baseAddress!, i)
                for k in 0..<16 {
                    #expect(f16[k].bitPattern == FloatWidening.float(fromF16: all[i + k]).bitPattern, "f16 \(all[i + k])")
                    #expect(bf16[k].bitPattern == FloatWidening.float(fromBF16: all[i + k]).bitPattern, "bf16 \(all[i + k])")
                }
            }
        }
    }

    @Test func quantisationErrorIsHalfAStep() {
        let n = 50, w = Self.values(4 * n, seed: 3)
        var q = [Int8](repeating: 0, count: 4 * n), scales = [Float](repeating: 0, count: 4)
        Int8Quantize.quantize(w, rows: 4, cols: n, values: &q, scales: &scales)
        for r in 0..<4 {
            #expect(q[(r * n)..<((r + 1) * n)].map { abs(Int($0)) }.max() == 127)
            for i in 0..<n { #expect(abs(Float(q[r * n + i]) * scales[r] - w[r * n + i]) <= scales[r] / 2 * 1.0001) }
        }
    }

    /// f32 weights through the engine's kernels: the row counts exercise every path (one row; 2-16 rows in fours and
    /// ones; sgemm beyond `poolMaxRows`), with an input width that is not a multiple of 16 and accumulation.
    @Test(arguments: [1, 3, 4, 8, 13, 21, 300])
    func f32LinearMatchesNaive(rows: Int) {
        let out = 97, n = 203, w = Self.values(out * n, seed: 4), x = Self.values(rows * n, seed: 5)
        var y = [Float](repeating: 0.5, count: rows * out)
        let pool = WorkerPool(threads: 3)
        defer { pool.shutdown() }
        w.withUnsafeBytes { raw in
            let m = PackedMatrix(values: raw.baseAddress!, format: .f32, scales: nil, outFeatures: out, inFeatures: n)
            packedLinear(x, rows: rows, m, into: &y, accumulate: true, pool: pool)
        }
        for r in 0..<rows {
            for o in 0..<out {
                var e: Double = 0.5
                for i in 0..<n { e += Double(w[o * n + i]) * Double(x[r * n + i]) }
                #expect(abs(Double(y[r * out + o]) - e) < 1e-4 * max(1, abs(e)), "row \(r) out \(o)")
            }
        }
    }

    @Test func poolCoversEveryIndexOnceOverManyLoops() {
        let pool = WorkerPool(threads: 3)
        defer { pool.shutdown() }
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        for loop in 0..<300 {
            let n = 1 + (loop * 37) % 1000
            counts.initialize(repeating: 0, count: n)
            pool.parallelFor(count: n, chunk: 7, context: UnsafeRawPointer(counts)) { context, begin, end in
                let c = UnsafeMutablePointer(mutating: context.assumingMemoryBound(to: Int32.self))
                for i in begin..<end { c[i] += 1 }
            }
            #expect((0..<n).allSatisfy { counts[$0] == 1 }, "loop \(loop)")
        }
    }

    /// Converts the v11-gated fixture and compares its first-step logits with the f32 original.
    @Test(arguments: [ConvertDType.int8, .f16, .bf16, .f32])
    func convertedModelStaysClose(_ dtype: ConvertDType) throws {
        let input = Fixtures.modelDirectory("v11-gated")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("t5-convert-\(dtype)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try ModelConverter.convert(input: input, output: out, dtype: dtype)
        let original = try Fixtures.model("v11-gated"), converted = try T5Model(directory: out)
        let prompt = [37, 400, 5, 42, 1]
        func logits(_ m: T5Model) throws -> [Float] {
            let s = try DecodingSession(model: m, prompts: [prompt], maxSteps: 2)
            try s.step([m.config.decoderStartTokenId])
            try s.step([7])
            return s.logits(row: 0)
        }
        let a = try logits(original), b = try logits(converted)
        let scale = a.map(abs).max()!, err = zip(a, b).map { abs($0 - $1) }.max()!
        let tolerance: Float = [.f32: 1e-6, .f16: 5e-3, .bf16: 3e-2, .int8: 3e-2][dtype]!
        #expect(err <= tolerance * scale, "\(dtype): max abs err \(err), scale \(scale)")
        #expect(converted.weightBytes <= original.weightBytes)
    }

    @Test func convertRefusesToOverwriteItsInputOrAnExistingFolder() throws {
        let input = Fixtures.modelDirectory("v11-gated")
        #expect(throws: ConvertError.sameAsInput(path: input.standardizedFileURL.resolvingSymlinksInPath().path)) {
            try ModelConverter.convert(input: input, output: input, dtype: .int8)
        }
        let existing = FileManager.default.temporaryDirectory.appendingPathComponent("t5-convert-existing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: existing) }
        try Data("keep".utf8).write(to: existing.appendingPathComponent("note.txt"))
        #expect(throws: ConvertError.self) { try ModelConverter.convert(input: input, output: existing, dtype: .f16) }
        #expect(try String(contentsOf: existing.appendingPathComponent("note.txt"), encoding: .utf8) == "keep")
    }
}
