// The opt-in int8-activation (W8A8) mode: the kernels against the definition written out here, row independence,
// closeness of a converted model to its f32 original, and the typed refusal on a model without int8 weights.
import Foundation
import Testing
import CT5Kernels
@testable import T5Engine

@Suite struct W8A8Tests {
    /// `y[r, o] (+)= ((Float(Σ q_x[r, k] · q_w[o, k]) · ws[o]) · xs[r])` with each input row quantised by the portable
    /// `Int8Quantize` loop: the mode's definition, computed without the engine's product code.
    static func definition(x: [Float], rows: Int, n: Int, q: [Int8], ws: [Float], out: Int, y0: Float?) -> [Float] {
        var xq = [Int8](repeating: 0, count: rows * n), xs = [Float](repeating: 0, count: rows)
        Int8Quantize.quantize(x, rows: rows, cols: n, values: &xq, scales: &xs, level: .portable)
        var y = [Float](repeating: 0, count: rows * out)
        for r in 0..<rows {
            for o in 0..<out {
                var dot: Int32 = 0
                for k in 0..<n { dot += Int32(xq[r * n + k]) * Int32(q[o * n + k]) }
                let v = (Float(dot) * ws[o]) * xs[r]
                y[r * out + o] = y0.map { $0 + v } ?? v
            }
        }
        return y
    }

    /// Every supported level (VNNI where the CPU has it, else the plain loop) gives the definition's bits, for row counts
    /// that use every tile (1, the 4 x 4 tiles and their 1-3-row tails, encoder-sized), widths with and without a
    /// 64-byte tail, output counts with a tail, and accumulation.
    @Test(arguments: [(1, 512), (1, 77), (3, 100), (4, 64), (8, 512), (13, 130), (70, 200)])
    func productEqualsTheDefinition(_ shape: (rows: Int, inFeatures: Int)) {
        let (rows, n) = shape, out = 70
        let w = Int8AndConvertTests.values(out * n, seed: 11), x = Int8AndConvertTests.values(rows * n, seed: 12).map { $0 * 3 }
        var q = [Int8](repeating: 0, count: out * n), ws = [Float](repeating: 0, count: out)
        Int8Quantize.quantize(w, rows: out, cols: n, values: &q, scales: &ws)
        var sums = [Int32](repeating: 0, count: out)
        int8RowSums(q, out: out, in: n, into: &sums)
        for level in InstructionSet.allCases where level.isSupported {
            for accumulate in [false, true] {
                let pool = WorkerPool(threads: 2, instructionSet: level)
                defer { pool.shutdown() }
                var y = [Float](repeating: 0.5, count: rows * out)
                q.withUnsafeBytes { qp in
                    ws.withUnsafeBufferPointer { sp in
                        sums.withUnsafeBufferPointer { rs in
                            let m = PackedMatrix(values: qp.baseAddress!, format: .int8, scales: sp.baseAddress!,
                                                 outFeatures: out, inFeatures: n, rowSums: rs.baseAddress!)
                            packedLinear(x, rows: rows, m, into: &y, accumulate: accumulate, pool: pool)
                        }
                    }
                }
                let expected = Self.definition(x: x, rows: rows, n: n, q: q, ws: ws, out: out, y0: accumulate ? 0.5 : nil)
                let differing = zip(y, expected).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(level), accumulate \(accumulate): \(differing) of \(y.count) outputs differ")
            }
        }
    }

    /// A row's result does not depend on the rows beside it (a server batches unrelated requests), nor on `ldx`, nor on
    /// whether the rows were quantised across the pool (from 64 rows) or on the calling thread.
    @Test(arguments: [9, 70])
    func rowsAreIndependent(rows: Int) {
        let n = 256, out = 40, ldx = n + 16
        let w = Int8AndConvertTests.values(out * n, seed: 21), x = Int8AndConvertTests.values(rows * ldx, seed: 22)
        var q = [Int8](repeating: 0, count: out * n), ws = [Float](repeating: 0, count: out)
        Int8Quantize.quantize(w, rows: out, cols: n, values: &q, scales: &ws)
        var sums = [Int32](repeating: 0, count: out)
        int8RowSums(q, out: out, in: n, into: &sums)
        let pool = WorkerPool(threads: 2)
        defer { pool.shutdown() }
        q.withUnsafeBytes { qp in
            ws.withUnsafeBufferPointer { sp in
                sums.withUnsafeBufferPointer { rs in
                    let m = PackedMatrix(values: qp.baseAddress!, format: .int8, scales: sp.baseAddress!,
                                         outFeatures: out, inFeatures: n, rowSums: rs.baseAddress!)
                    var all = [Float](repeating: 0, count: rows * out)
                    packedLinear(x, rows: rows, ldx: ldx, m, into: &all, accumulate: false, pool: pool)
                    x.withUnsafeBufferPointer { xp in
                        for r in 0..<rows {
                            var one = [Float](repeating: 0, count: out)
                            packedLinear(xp.baseAddress! + r * ldx, rows: 1, m, into: &one, accumulate: false, pool: pool)
                            #expect(one.map(\.bitPattern) == all[(r * out)..<((r + 1) * out)].map(\.bitPattern), "row \(r)")
                        }
                    }
                }
            }
        }
    }

    /// The row sums computed at load: the engine's call, the plain loop and the AVX2 one (where the CPU has it) give the
    /// sums written out here, for widths below, at and past one 32-byte step, and rows of -128 and 127 at the widest row.
    @Test(arguments: [(5, 1), (7, 31), (9, 32), (11, 77), (3, 512), (2, 65536)])
    func rowSumsEqualTheDefinition(_ shape: (out: Int, inFeatures: Int)) {
        let (out, n) = shape
        var w = (0..<(out * n)).map { Int8(truncatingIfNeeded: ($0 &* 40503 &+ 7) >> 5) }
        if n == w8a8MaxInFeatures {
            for k in 0..<n { w[k] = -128; w[n + k] = 127 }
        }
        let expected = (0..<out).map { o in Int32(w[(o * n)..<((o + 1) * n)].reduce(0) { $0 + Int($1) }) }
        var engine = [Int32](repeating: 0, count: out), plain = engine, avx2 = engine
        int8RowSums(w, out: out, in: n, into: &engine)
        #expect(engine == expected)
        t5k_int8_row_sums_plain(w, out, n, &plain)
        #expect(plain == expected)
        if InstructionSet.avx2.isSupported {
            #expect(t5k_int8_row_sums_avx2(w, out, n, &avx2) == 1)
            #expect(avx2 == expected)
        }
    }

    /// Two or three products of one input in one dispatch (q/k/v, wi_0/wi_1) equal the products made one by one.
    @Test(arguments: [1, 8])
    func groupedProductsEqualSingleOnes(rows: Int) {
        let n = 192, outs = [64, 40, 72]
        let x = Int8AndConvertTests.values(rows * n, seed: 31)
        let pool = WorkerPool(threads: 2)
        defer { pool.shutdown() }
        let m = outs.enumerated().map { i, out in
            let w = Int8AndConvertTests.values(out * n, seed: 32 + UInt64(i))
            let q = UnsafeMutablePointer<Int8>.allocate(capacity: out * n), s = UnsafeMutablePointer<Float>.allocate(capacity: out)
            let sums = UnsafeMutablePointer<Int32>.allocate(capacity: out)
            Int8Quantize.quantize(w, rows: out, cols: n, values: q, scales: s)
            int8RowSums(q, out: out, in: n, into: sums)
            return PackedMatrix(values: UnsafeRawPointer(q), format: .int8, scales: s, outFeatures: out, inFeatures: n,
                                rowSums: sums)
        }
        defer {
            for w in m { w.values.deallocate(); w.scales?.deallocate(); w.rowSums?.deallocate() }
        }
        for count in [2, 3] {
            var single = outs.map { [Float](repeating: 0, count: rows * $0) }
            for i in 0..<count { packedLinear(x, rows: rows, m[i], into: &single[i], accumulate: false, pool: pool) }
            var g0 = single[0].map { _ in Float(0) }, g1 = single[1].map { _ in Float(0) }, g2 = single[2].map { _ in Float(0) }
            g0.withUnsafeMutableBufferPointer { y0 in
                g1.withUnsafeMutableBufferPointer { y1 in
                    g2.withUnsafeMutableBufferPointer { y2 in
                        packedLinearGroup(x, rows: rows, m[0], into: y0.baseAddress!, m[1], into: y1.baseAddress!,
                                          count == 3 ? m[2] : nil, into: count == 3 ? y2.baseAddress! : nil,
                                          pool: pool, rowIndependent: true)
                    }
                }
            }
            let grouped = [g0, g1, g2]
            for i in 0..<count {
                #expect(grouped[i].map(\.bitPattern) == single[i].map(\.bitPattern), "\(count) products, part \(i)")
            }
        }
    }

    /// A converted int8 model with int8 activations stays close to the f32 original (which the parity suites hold to
    /// transformers): first-step logits within 6 % of their largest magnitude (f32-activation int8: 3 %, see
    /// `convertedModelStaysClose`), and the greedy continuation mostly the same.
    @Test func convertedModelWithInt8ActivationsStaysClose() throws {
        let input = Fixtures.modelDirectory("v11-gated")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("t5-w8a8-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try ModelConverter.convert(input: input, output: out, dtype: .int8)
        let original = try Fixtures.model("v11-gated"), w8a8 = try T5Model(directory: out, int8Activations: true)
        #expect(w8a8.int8Activations)
        let prompts = [[37, 400, 5, 42, 1], [9, 8, 7, 6, 5, 4, 3, 2, 1], [100, 1]]
        var agree = 0, total = 0
        for prompt in prompts {
            let a = try DecodingSession(model: original, prompts: [prompt], maxSteps: 12)
            let b = try DecodingSession(model: w8a8, prompts: [prompt], maxSteps: 12)
            var token = original.config.decoderStartTokenId
            for step in 0..<12 {
                try a.step([token]); try b.step([token])
                let la = a.logits(row: 0), lb = b.logits(row: 0)
                if step == 0 {
                    let scale = la.map(abs).max()!, err = zip(la, lb).map { abs($0 - $1) }.max()!
                    #expect(err <= 0.06 * scale, "prompt \(prompt): max abs err \(err), scale \(scale)")
                }
                let ta = la.indices.max { la[$0] < la[$1] }!, tb = lb.indices.max { lb[$0] < lb[$1] }!
                agree += ta == tb ? 1 : 0; total += 1
                token = ta  // teacher-forced by the original's choice
            }
        }
        #expect(agree * 10 >= total * 8, "top-1 agreement \(agree) of \(total)")
    }

    @Test func int8ActivationsOnAModelWithoutInt8WeightsIsRefused() {
        let directory = Fixtures.modelDirectory("v11-gated")
        #expect(throws: WeightsError.int8ActivationsNeedInt8Weights(directory: directory.path)) {
            try T5Model(directory: directory, int8Activations: true)
        }
    }
}
