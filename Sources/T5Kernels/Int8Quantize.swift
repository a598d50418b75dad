// Symmetric per-row int8 quantisation: each output row gets the scale that maps its largest |weight| to 127.
import CT5Kernels

package enum Int8Quantize {
    /// Quantises `rows` rows of `cols` f32 weights into `values`, writing one scale per row into `scales`.
    /// An all-zero row gets scale 0 and zero values; non-finite weights are refused by the caller.
    package static func quantize(
        _ w: UnsafePointer<Float>, rows: Int, cols: Int,
        values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
    ) {
        // On AVX-512 machines the same arithmetic in C: an int8 KV cache stores every row of every step this way, and
        // the portable loop (a libm call per value at SSE2) was 3 % of a batch-8 step, serial (PERFORMANCE.md,
        // "Serial parts of a decode step in C").
        if InstructionSet.best == .avx512, t5k_quantize_rows_avx512(w, rows, cols, values, scales) != 0 { return }
        quantizePortable(w, rows: rows, cols: cols, values: values, scales: scales)
    }

    /// The definition `quantize` follows on every machine.
    package static func quantizePortable(
        _ w: UnsafePointer<Float>, rows: Int, cols: Int,
        values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
    ) {
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
