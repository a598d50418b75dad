// Turns a row's scores at one step into a `TokenLogprob`; one per decoder, its scratch allocated once.
import Foundation

/// The chosen token's log-probability and the `k` most likely tokens of a row's scores. Only the result
/// arrays are allocated per token; the top-k min-heap reuses its scratch.
struct LogprobRecorder {
    let k: Int
    /// Min-heap of the best `k` so far: the root is the worst kept.
    private var heapIds: [Int]
    private var heapValues: [Float]

    init(k: Int) {
        self.k = k
        heapIds = []
        heapValues = []
        heapIds.reserveCapacity(k)
        heapValues.reserveCapacity(k)
    }

    /// The entry for `token`. `normalize`: the scores are logits (greedy, sampling) and are log-softmaxed first;
    /// otherwise they already are log-probabilities (beam search) and are taken as they are.
    mutating func entry(token: Int, scores: UnsafeBufferPointer<Float>, normalize: Bool) -> TokenLogprob {
        var top = best(scores)
        guard normalize else { return TokenLogprob(id: token, logprob: scores[token], top: top) }
        let (m, logSum) = Self.logSoftmaxShift(scores)
        // (x - max) - log Σ exp(x - max): torch's log_softmax, term for term.
        for i in top.indices { top[i].logprob = (top[i].logprob - m) - logSum }
        return TokenLogprob(id: token, logprob: (scores[token] - m) - logSum, top: top)
    }

    /// The `k` most likely of scores that already are log-probabilities (beam search), most likely first.
    mutating func top(ofLogprobs scores: UnsafeBufferPointer<Float>) -> [TokenLogprob.Alternative] { best(scores) }

    /// The maximum score and log Σ exp(score - maximum) over the finite scores.
    static func logSoftmaxShift(_ scores: UnsafeBufferPointer<Float>) -> (max: Float, logSum: Float) {
        var m = -Float.infinity
        for s in scores where s > m { m = s }
        guard m > -.infinity else { return (0, .infinity) }
        var sum: Double = 0
        for s in scores where s > -.infinity { sum += Double(exp(s - m)) }
        return (m, Float(log(sum)))
    }

    /// The `k` highest finite scores, highest first, the lower id first among equal ones.
    private mutating func best(_ scores: UnsafeBufferPointer<Float>) -> [TokenLogprob.Alternative] {
        guard k > 0 else { return [] }
        heapIds.removeAll(keepingCapacity: true)
        heapValues.removeAll(keepingCapacity: true)
        for i in 0..<scores.count {
            let v = scores[i]
            guard v > -.infinity else { continue }
            if heapIds.count < k {
                heapIds.append(i)
                heapValues.append(v)
                siftUp(heapIds.count - 1)
            } else if v > heapValues[0] {
                // Ids arrive in increasing order, so an equal value never displaces a kept (lower) id.
                heapIds[0] = i
                heapValues[0] = v
                siftDown(0)
            }
        }
        var out = (0..<heapIds.count).map { TokenLogprob.Alternative(id: heapIds[$0], logprob: heapValues[$0]) }
        out.sort { $0.logprob > $1.logprob || ($0.logprob == $1.logprob && $0.id < $1.id) }
        return out
    }

    /// Heap order: `a` is kept in preference to `b` when its value is higher, or equal with a lower id.
    private func worse(_ a: Int, than b: Int) -> Bool {
        heapValues[a] < heapValues[b] || (heapValues[a] == heapValues[b] && heapIds[a] > heapIds[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        heapIds.swapAt(a, b)
        heapValues.swapAt(a, b)
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(i, than: parent) else { break }
            swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = heapIds.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var worst = i
            if l < n, worse(l, than: worst) { worst = l }
            if r < n, worse(r, than: worst) { worst = r }
            if worst == i { break }
            swapAt(i, worst)
            i = worst
        }
    }
}
