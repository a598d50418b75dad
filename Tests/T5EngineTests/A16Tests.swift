// int8 decode products with 16-bit activations (the default int8 path with AVX2 or AVX-512): the rounding and the kernels
// against the definition written out here, the rounding's edge cases, row independence, grouped products, and a
// converted model's closeness to the f32-activation int8 path and to the f32 original.
import CT5Kernels
import Foundation
import Testing
@testable import T5Engine

@Suite struct A16Tests {
    /// How many levels each side a row of `n` activations gets: no 32-bit sum of `n` products with |w| ≤ 128 overflows.
    static func levels(_ n: Int) -> Int { min(32767, Int(Int32.max) / (n * 128)) }

    /// Each row rounded to integers with one scale (the definition, independent of the C code).
    static func round(_ x: [Float], rows: Int, n: Int, ldx: Int) -> (q: [Int16], scales: [Float]) {
        var q = [Int16](repeating: 0, count: rows * n), scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let row = x[(r * ldx)..<(r * ldx + n)]
            if row.contains(where: { !$0.isFinite }) { scales[r] = .nan; continue }
            let maxAbs = row.map(abs).max()!
            if maxAbs < 0x1p-100 { continue }
            let l = Float(levels(n)), inverse = l / maxAbs
            scales[r] = maxAbs / l
            for k in 0..<n { q[r * n + k] = Int16(max(-l, min(l, (row[row.startIndex + k] * inverse).rounded(.toNearestOrEven)))) }
        }
        return (q, scales)
    }

    /// `y[r, o] (+)= (Float(Σ q[r, k] · w[o, k]) · ws[o]) · xs[r]`.
    static func definition(x: [Float], rows: Int, n: Int, ldx: Int, w: [Int8], ws: [Float], out: Int, y0: Float?) -> [Float] {
        let (q, xs) = round(x, rows: rows, n: n, ldx: ldx)
        var y = [Float](repeating: 0, count: rows * out)
        for r in 0..<rows {
            for o in 0..<out {
                var dot: Int32 = 0
                for k in 0..<n { dot += Int32(q[r * n + k]) * Int32(w[o * n + k]) }
                let v = (Float(dot) * ws[o]) * xs[r]
                y[r * out + o] = y0.map { $0 + v } ?? v
            }
        }
        return y
    }

    /// An int8 matrix quantised from seeded values, kept alive for the closure.
    static func withMatrix<R>(out: Int, n: Int, seed: UInt64, _ body: (PackedMatrix, [Int8], [Float]) -> R) -> R {
        let w = Int8AndConvertTests.values(out * n, seed: seed)
        var q = [Int8](repeating: 0, count: out * n), ws = [Float](repeating: 0, count: out)
        Int8Quantize.quantize(w, rows: out, cols: n, values: &q, scales: &ws)
        return q.withUnsafeBytes { qp in
            ws.withUnsafeBufferPointer { sp in
                body(PackedMatrix(values: qp.baseAddress!, format: .int8, scales: sp.baseAddress!, outFeatures: out,
                                  inFeatures: n), q, ws)
            }
        }
    }

    /// Row counts that use every tile (batch 1's 8 x 1, the 4 x 4 tiles and their 1-3-row tails, a short prompt), widths
    /// with and without a 32-element tail and past 512 (fewer levels), outputs with a tail, and
    /// accumulation with rows of `x` wider than the matrix.
    /// Every vector level the CPU runs: AVX-512 (the VNNI kernel where the CPU has it, else the AVX2 one) and AVX2.
    @Test(arguments: [(1, 512), (1, 77), (3, 100), (4, 64), (8, 512), (13, 130), (40, 1030), (2, 2100)])
    func productEqualsTheDefinition(_ shape: (rows: Int, inFeatures: Int)) throws {
        let levels = [InstructionSet.avx512, .avx2].filter(\.isSupported)
        try #require(!levels.isEmpty, "this CPU runs neither AVX2 nor AVX-512")
        let (rows, n) = shape, out = 70, ldx = n + 3
        // Activations with an outlier column, as T5's feed-forward inputs have.
        let x = Int8AndConvertTests.values(rows * ldx, seed: 41).enumerated().map { $0 % 37 == 5 ? $1 * 40 : $1 }
        Self.withMatrix(out: out, n: n, seed: 42) { m, q, ws in
            for level in levels {
                #expect(usesA16(m, level) && !usesA16(m, .portable))
                for accumulate in [false, true] {
                let pool = WorkerPool(threads: 2, instructionSet: level)
                defer { pool.shutdown() }
                var y = [Float](repeating: 0.5, count: rows * out)
                packedLinear(x, rows: rows, ldx: ldx, m, into: &y, accumulate: accumulate, pool: pool, rowIndependent: true)
                let expected = Self.definition(x: x, rows: rows, n: n, ldx: ldx, w: q, ws: ws, out: out,
                                               y0: accumulate ? 0.5 : nil)
                let differing = zip(y, expected).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(level), accumulate \(accumulate): \(differing) of \(y.count) outputs differ")
                }
            }
        }
    }

    /// The portable C loop (other CPUs never call it in the engine; it is the kernels' written-out twin) and the
    /// AVX-512 rounding give the definition's bits too.
    @Test func plainLoopAndRoundingEqualTheDefinition() {
        let rows = 5, n = 300, out = 33
        let x = Int8AndConvertTests.values(rows * n, seed: 43).map { $0 * 7 }
        let (dq, ds) = Self.round(x, rows: rows, n: n, ldx: n)
        var q = [Int16](repeating: 0, count: rows * n), s = [Float](repeating: 0, count: rows)
        t5k_quantize_a16_plain(x, n, rows, n, &q, &s)
        #expect(q == dq && s.map(\.bitPattern) == ds.map(\.bitPattern))
        if InstructionSet.avx512.isSupported {
            var q2 = q.map { _ in Int16(0) }, s2 = s.map { _ in Float(0) }
            #expect(t5k_quantize_a16_avx512(x, n, rows, n, &q2, &s2) == 1)
            #expect(q2 == dq && s2.map(\.bitPattern) == ds.map(\.bitPattern))
        }
        if InstructionSet.avx2.isSupported {
            var q3 = q.map { _ in Int16(0) }, s3 = s.map { _ in Float(0) }
            #expect(t5k_quantize_a16_avx2(x, n, rows, n, &q3, &s3) == 1)
            #expect(q3 == dq && s3.map(\.bitPattern) == ds.map(\.bitPattern))
        }
        Self.withMatrix(out: out, n: n, seed: 44) { m, w, ws in
            var y = [Float](repeating: 0, count: rows * out)
            dq.withUnsafeBufferPointer { qp in
                ds.withUnsafeBufferPointer { sp in
                    y.withUnsafeMutableBufferPointer { yp in
                        var job = T5KLinearA16(xq: qp.baseAddress!, xscales: sp.baseAddress!,
                                               w: m.values.assumingMemoryBound(to: Int8.self), wscales: m.scales!,
                                               y: yp.baseAddress!, rows: rows, in: n, out: out, ldy: out, accumulate: 0)
                        t5k_linear_a16_plain(&job, 0, out)
                    }
                }
            }
            let expected = Self.definition(x: x, rows: rows, n: n, ldx: n, w: w, ws: ws, out: out, y0: nil)
            #expect(y.map(\.bitPattern) == expected.map(\.bitPattern))
        }
    }

    /// A row of zeros gives zeros; a row holding inf or NaN gives NaN outputs (as f32 activations would give a
    /// non-finite result), never a wrapped integer; a row whose values are all below 2^-100 counts as zero; widths
    /// past 512 get fewer levels so that the largest possible sum still fits.
    @Test func roundingEdgeCases() {
        let n = 64
        var x = [Float](repeating: 0, count: 4 * n)
        x[n + 3] = .infinity
        x[2 * n + 9] = .nan; x[2 * n + 10] = 5
        x[3 * n + 1] = 0x1p-101
        for level in InstructionSet.allCases where level.isSupported {
            var q = [Int16](repeating: 7, count: 4 * n), s = [Float](repeating: 7, count: 4)
            switch level {
            case .avx512: #expect(t5k_quantize_a16_avx512(x, n, 4, n, &q, &s) == 1)
            case .avx2: #expect(t5k_quantize_a16_avx2(x, n, 4, n, &q, &s) == 1)
            case .portable: t5k_quantize_a16_plain(x, n, 4, n, &q, &s)
            }
            #expect(q.allSatisfy { $0 == 0 }, "\(level)")
            #expect(s[0] == 0 && s[1].isNaN && s[2].isNaN && s[3] == 0, "\(level): \(s)")
        }
        #expect(t5k_a16_levels(512) == 32767 && t5k_a16_levels(513) == 32704 && t5k_a16_levels(768) == 21845)
        #expect(t5k_a16_levels(2048) == 8191 && t5k_a16_levels(10240) == 1638)
        // The worst case at a wide row: every product at its largest magnitude, the same sign.
        let wide = 10240, l = Int(t5k_a16_levels(wide))
        #expect(wide * l * 128 <= Int(Int32.max))
    }

    /// A row's result does not depend on the rows beside it (a server batches unrelated requests) nor on `ldx`.
    @Test(arguments: [InstructionSet.avx512, .avx2])
    func rowsAreIndependent(level: InstructionSet) throws {
        try #require(level.isSupported, "this CPU does not run \(level)")
        let rows = 9, n = 256, out = 40, ldx = n + 16
        let x = Int8AndConvertTests.values(rows * ldx, seed: 45)
        let pool = WorkerPool(threads: 2, instructionSet: level)
        defer { pool.shutdown() }
        Self.withMatrix(out: out, n: n, seed: 46) { m, _, _ in
            var all = [Float](repeating: 0, count: rows * out)
            packedLinear(x, rows: rows, ldx: ldx, m, into: &all, accumulate: false, pool: pool, rowIndependent: true)
            x.withUnsafeBufferPointer { xp in
                for r in 0..<rows {
                    var one = [Float](repeating: 0, count: out)
                    packedLinear(xp.baseAddress! + r * ldx, rows: 1, m, into: &one, accumulate: false, pool: pool,
                                 rowIndependent: true)
                    #expect(one.map(\.bitPattern) == all[(r * out)..<((r + 1) * out)].map(\.bitPattern), "row \(r)")
                }
            }
        }
    }

    /// q/k/v and wi_0/wi_1 in one dispatch (rows rounded once) equal the products made one by one.
    @Test(arguments: [1, 8], [InstructionSet.avx512, .avx2])
    func groupedProductsEqualSingleOnes(rows: Int, level: InstructionSet) throws {
        try #require(level.isSupported, "this CPU does not run \(level)")
        let n = 192, x = Int8AndConvertTests.values(rows * n, seed: 47)
        let pool = WorkerPool(threads: 2, instructionSet: level)
        defer { pool.shutdown() }
        Self.withMatrix(out: 64, n: n, seed: 48) { m0, _, _ in
            Self.withMatrix(out: 40, n: n, seed: 49) { m1, _, _ in
                Self.withMatrix(out: 72, n: n, seed: 50) { m2, _, _ in
                    let m = [m0, m1, m2]
                    for count in [2, 3] {
                        var single = m.map { [Float](repeating: 0, count: rows * $0.outFeatures) }
                        for i in 0..<count {
                            packedLinear(x, rows: rows, m[i], into: &single[i], accumulate: false, pool: pool,
                                         rowIndependent: true)
                        }
                        var g0 = [Float](repeating: 0, count: rows * m0.outFeatures)
                        var g1 = [Float](repeating: 0, count: rows * m1.outFeatures)
                        var g2 = [Float](repeating: 0, count: rows * m2.outFeatures)
                        g0.withUnsafeMutableBufferPointer { y0 in
                            g1.withUnsafeMutableBufferPointer { y1 in
                                g2.withUnsafeMutableBufferPointer { y2 in
                                    packedLinearGroup(x, rows: rows, m0, into: y0.baseAddress!, m1, into: y1.baseAddress!,
                                                      count == 3 ? m2 : nil, into: count == 3 ? y2.baseAddress! : nil,
                                                      pool: pool, rowIndependent: true)
                                }
                            }
                        }
                        let g = [g0, g1, g2]
                        for i in 0..<count {
                            #expect(g[i].map(\.bitPattern) == single[i].map(\.bitPattern), "\(count) products, part \(i)")
                        }
                    }
                }
            }
        }
    }

    /// A converted int8 model decoding with 16-bit activations (the best vector level) against the same model with
    /// f32 activations (the portable kernels, whose int8 results `Int8AndConvertTests` holds to the f32 original):
    /// logits at every step within 0.2 % of their largest magnitude, and the same greedy choice at every step.
    @Test func convertedModelMatchesF32Activations() throws {
        try #require(InstructionSet.best != .portable, "this CPU runs neither AVX2 nor AVX-512")
        let input = Fixtures.modelDirectory("v11-gated")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("t5-a16-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try ModelConverter.convert(input: input, output: out, dtype: .int8)
        let vector = T5Runtime(threads: 2, instructionSet: .best), portable = T5Runtime(threads: 2, instructionSet: .portable)
        let a16 = try T5Model(directory: out, runtime: vector), f32Activations = try T5Model(directory: out, runtime: portable)
        #expect(a16.integerKernels == .a16 && f32Activations.integerKernels == nil)
        var worst: Float = 0, steps = 0, same = 0
        for prompt in [[37, 400, 5, 42, 1], [9, 8, 7, 6, 5, 4, 3, 2, 1], [100, 1]] {
            let a = try DecodingSession(model: a16, prompts: [prompt], maxSteps: 10)
            let b = try DecodingSession(model: f32Activations, prompts: [prompt], maxSteps: 10)
            var token = a16.config.decoderStartTokenId
            for _ in 0..<10 {
                try a.step([token]); try b.step([token])
                let la = a.logits(row: 0), lb = b.logits(row: 0)
                worst = max(worst, zip(la, lb).map { abs($0 - $1) }.max()! / lb.map(abs).max()!)
                let ta = la.indices.max { la[$0] < la[$1] }!, tb = lb.indices.max { lb[$0] < lb[$1] }!
                same += ta == tb ? 1 : 0; steps += 1
                token = tb
            }
        }
        #expect(worst <= 2e-3, "largest logit difference to f32 activations: \(worst) of the largest logit")
        #expect(same == steps, "greedy choices: \(same) of \(steps) the same")
    }
}
