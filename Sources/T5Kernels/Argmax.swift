// Greedy search's last step: the index of a row's largest logit, once per row per step over the whole vocabulary.
import CT5Kernels

/// Index of the largest value, the first one on ties (as torch.argmax); nil if any value is NaN. 0 for an empty buffer.
/// On AVX-512 machines two vector passes in C (the maximum, then its first index): the portable loop, at SSE2 with a
/// branch per value, was 1.4 % of a batch-8 decode step, serial while the other threads waited (PERFORMANCE.md,
/// "Serial parts of a decode step in C").
package func firstArgmax(_ values: UnsafeBufferPointer<Float>) -> Int? {
    guard let base = values.baseAddress, values.count > 0 else { return 0 }
    if InstructionSet.best == .avx512 {
        let i = t5k_argmax_avx512(base, values.count)
        return i < 0 ? nil : i
    }
    var best = 0
    var bestValue = -Float.infinity
    for i in 0..<values.count {
        let v = values[i]
        if v.isNaN { return nil }
        if v > bestValue || i == 0 { best = i; bestValue = v }
    }
    return best
}
