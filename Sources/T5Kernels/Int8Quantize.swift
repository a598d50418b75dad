// Symmetric per-row int8 quantisation: each output row gets the scale that maps its largest |weight| to 127.
import CT5Kernels

package enum Int8Quantize {
    /// Quantises `rows` rows of `cols` f32 weights into `values`, writing one scale per row into `scales`.
    /// An all-zero row gets scale 0 and zero values; non-finite weights are refused by the caller. `level`: the kernels
    /// of a runtime (an int8 KV cache's stores); the best this CPU runs where there is none (`t5 convert`). Every level
    /// gives the same bits: the loop below is the definition.
    package static func quantize(
        _ w: UnsafePointer<Float>, rows: Int, cols: Int,
        values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, level: InstructionSet = .best
    ) {
        // On AVX-512 the same arithmetic in C: an int8 KV cache stores every row of every step this way, and the
        // portable loop (a libm call per value at SSE2) was 3 % of a batch-8 step, serial (PERFORMANCE.md, "Serial
        // parts of a decode step in C").
        if level == .avx512, t5k_quantize_rows_avx512(w, rows, cols, values, scales) != 0 { return }
        for r in 0..<rows {
            let src = w + r * cols, dst = values + r * cols
            var maxAbs: Float = 0
            for i in 0..<cols { maxAbs = max(maxAbs, abs(src[i])) }
            let scale = maxAbs / 127
            scales[r] = scale
            let inverse: Float = scale > 0 ? 1 / scale : 0
            for i in 0..<cols {
                // Round half away from zero, as numpy/torch round-then-clamp quantisers do for ties in practice.
                let q = (src[i] * inverse).rounded(.toNearestOrAwayFromZero)
                dst[i] = Int8(max(-127, min(127, q)))
            }
        }
    }
}
