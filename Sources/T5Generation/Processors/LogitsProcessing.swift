// Score edits applied before each token choice, in transformers' order: repetition penalty, no-repeat n-gram,
// min new tokens; then, when sampling, temperature, top-k and top-p.
import Foundation

struct LogitsProcessing {
    let options: GenerationOptions
    let eos: Int

    /// Penalties that apply to every strategy. `sequence` is the decoder input so far, start token included,
    /// as transformers sees it (so the start token counts for the repetition penalty and n-grams).
    func applyPenalties(_ scores: UnsafeMutableBufferPointer<Float>, sequence: [Int], generated: Int) {
        if options.repetitionPenalty != 1 {
            let p = options.repetitionPenalty
            // Each distinct token once: transformers gathers all scores first, so repeats do not compound.
            var seen = Set<Int>()
            for t in sequence where seen.insert(t).inserted {
                let s = scores[t]
                scores[t] = s < 0 ? s * p : s / p
            }
        }
        let n = options.noRepeatNgramSize
        if n > 0, sequence.count + 1 >= n {
            // Ban every token that would complete an n-gram already present.
            let len = sequence.count, prefixStart = len + 1 - n
            if n == 1 {
                for t in sequence { scores[t] = -.infinity }
            } else if len >= n {
                for i in 0...(len - n) {
                    var matches = true
                    for j in 0..<(n - 1) where sequence[i + j] != sequence[prefixStart + j] { matches = false; break }
                    if matches { scores[sequence[i + n - 1]] = -.infinity }
                }
            }
        }
        if generated < options.minNewTokens, eos < scores.count {
            scores[eos] = -.infinity
        }
    }

    /// Sampling warpers: temperature, then top-k (ties with the k-th value kept), then top-p (nucleus).
    /// `order` is scratch of vocabulary size.
    func applyWarpers(_ scores: UnsafeMutableBufferPointer<Float>, order: inout [Int]) {
        let v = scores.count
        if options.temperature != 1 {
            let t = options.temperature
            for i in 0..<v { scores[i] /= t }
        }
        if options.topK > 0, options.topK < v {
            let threshold = kthLargest(scores, k: options.topK)
            for i in 0..<v where scores[i] < threshold { scores[i] = -.infinity }
        }
        if options.topP < 1 {
            // Ascending by score; drop the low tail whose total probability is <= 1 - top_p; keep the best token.
            order.removeAll(keepingCapacity: true)
            for i in 0..<v where scores[i] > -.infinity { order.append(i) }
            order.sort { scores[$0] < scores[$1] }
            guard let top = order.last else { return }
            let m = scores[top]
            var total: Float = 0
            for i in order { total += exp(scores[i] - m) }
            var cumulative: Float = 0
            for i in order.dropLast() {
                cumulative += exp(scores[i] - m) / total
                if cumulative <= 1 - options.topP { scores[i] = -.infinity } else { break }
            }
        }
    }

    /// The k-th largest finite-or-infinite value (k >= 1), via a small min-heap: O(v log k).
    private func kthLargest(_ scores: UnsafeMutableBufferPointer<Float>, k: Int) -> Float {
        var heap = [Float]()
        heap.reserveCapacity(k)
        for s in scores {
            if heap.count < k {
                heap.append(s)
                var i = heap.count - 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    if heap[parent] <= heap[i] { break }
                    heap.swapAt(parent, i)
                    i = parent
                }
            } else if s > heap[0] {
                heap[0] = s
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var smallest = i
                    if l < k, heap[l] < heap[smallest] { smallest = l }
                    if r < k, heap[r] < heap[smallest] { smallest = r }
                    if smallest == i { break }
                    heap.swapAt(i, smallest)
                    i = smallest
                }
            }
        }
        return heap[0]
    }
}

/// In-place log-softmax, as torch computes it: x - max - log(sum(exp(x - max))).
func logSoftmax(_ x: UnsafeMutableBufferPointer<Float>) {
    var m = -Float.infinity
    for v in x where v > m { m = v }
    var sum: Float = 0
    for v in x { sum += exp(v - m) }
    let shift = m + log(sum)
    for i in 0..<x.count { x[i] -= shift }
}
