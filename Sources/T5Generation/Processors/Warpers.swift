// Sampling warpers: they reshape the distribution a token is drawn from (applied only when sampling).
import Foundation

/// Divides every score by `temperature` (transformers' `TemperatureLogitsWarper`).
public struct TemperatureWarper: LogitsProcessor {
    public let temperature: Float

    public init(temperature: Float) { self.temperature = temperature }

    public func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        for i in 0..<scores.count { scores[i] /= temperature }
    }
}

/// Keeps the `k` best scores, ties with the k-th included (transformers' `TopKLogitsWarper`).
public struct TopKWarper: LogitsProcessor {
    public let k: Int
    private var heap: [Float] = []

    public init(k: Int) { self.k = k }

    public mutating func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        guard k > 0, k < scores.count else { return }
        let threshold = kthLargest(scores)
        for i in 0..<scores.count where scores[i] < threshold { scores[i] = -.infinity }
    }

    /// The k-th largest value, via a min-heap of the k best so far: O(v log k).
    private mutating func kthLargest(_ scores: UnsafeMutableBufferPointer<Float>) -> Float {
        heap.removeAll(keepingCapacity: true)
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

/// Keeps the smallest set of best tokens whose probability reaches `p`, and always the best one
/// (nucleus sampling, transformers' `TopPLogitsWarper`).
public struct TopPWarper: LogitsProcessor {
    public let p: Float
    private var order: [Int] = []

    public init(p: Float) { self.p = p }

    public mutating func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        guard p < 1 else { return }
        // Ascending by score; drop the low tail whose total probability is <= 1 - p.
        order.removeAll(keepingCapacity: true)
        for i in 0..<scores.count where scores[i] > -.infinity { order.append(i) }
        order.sort { scores[$0] < scores[$1] }
        guard let top = order.last else { return }
        let m = scores[top]
        var total: Float = 0
        for i in order { total += exp(scores[i] - m) }
        var cumulative: Float = 0
        for i in order.dropLast() {
            cumulative += exp(scores[i] - m) / total
            if cumulative <= 1 - p { scores[i] = -.infinity } else { break }
        }
    }
}

/// In-place log-softmax, as torch computes it: x - max - log(sum(exp(x - max))). Beam search scores with it.
public func logSoftmax(_ x: UnsafeMutableBufferPointer<Float>) {
    var m = -Float.infinity
    for v in x where v > m { m = v }
    var sum: Float = 0
    for v in x { sum += exp(v - m) }
    let shift = m + log(sum)
    for i in 0..<x.count { x[i] -= shift }
}
