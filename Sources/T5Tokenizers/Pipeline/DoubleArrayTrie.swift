// A byte-keyed double-array trie (base/check) mapping each key to an Int32 value: the vocabulary
// index for Unigram's common-prefix search and the added-token matcher. Built once at load.

struct DoubleArrayTrie: Sendable {
    struct Unit: Sendable {
        /// Children of this state live at `base + byte`.
        var base: Int32
        /// The parent state, or -1 for a free slot.
        var check: Int32
        /// The value of the key ending here, or -1.
        var value: Int32
        /// The Unigram score of that key when it is exactly a Float: read in the same cache line
        /// as `check`, which is what the Viterbi walk waits on.
        var score: Float
    }

    private(set) var units: [Unit]

    /// `keys[k]` maps to `values[k]` (and `scores[k]`, if given); for duplicate keys the last one
    /// wins (as HF's token map).
    init(keys: [[UInt8]], values: [Int32], scores: [Float]? = nil) {
        assert(keys.count == values.count)
        // Sort by key bytes; keep the last of equal keys (stable by original position).
        let order = keys.indices.sorted { a, b in
            let c = Self.compare(keys[a], keys[b])
            return c != 0 ? c < 0 : a < b
        }
        var sorted: [Int] = []
        sorted.reserveCapacity(order.count)
        for k in order {
            if let last = sorted.last, keys[last] == keys[k] { sorted[sorted.count - 1] = k } else { sorted.append(k) }
        }
        var builder = Builder()
        builder.build(keys: keys, values: values, scores: scores, sorted: sorted)
        units = builder.units
    }

    private static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// The value of exactly `key`, or nil.
    func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        units.withUnsafeBufferPointer { u in
            var state = 0
            for c in key {
                let t = Int(u[state].base) + Int(c)
                guard t < u.count, u[t].check == Int32(state) else { return nil }
                state = t
            }
            let v = u[state].value
            return state != 0 && v >= 0 ? v : nil
        }
    }

    func value(for key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { value(for: $0) }
    }

    private struct Builder {
        var units: [Unit] = [Unit(base: 1, check: -2, value: -1, score: 0)]
        /// Scanning for free slots starts here; everything before is (nearly) full.
        var nextCheckPosition = 1

        mutating func ensure(_ index: Int) {
            while units.count <= index { units.append(Unit(base: 0, check: -1, value: -1, score: 0)) }
        }

        /// Places the children of each state depth-first, from sorted key ranges sharing a prefix.
        /// Depth-first keeps a key's path in nearby cache lines (breadth-first scattered it and
        /// the Viterbi walk was bound by cache misses).
        mutating func build(keys: [[UInt8]], values: [Int32], scores: [Float]?, sorted: [Int]) {
            var stack: [(state: Int, lo: Int, hi: Int, depth: Int)] = [(0, 0, sorted.count, 0)]
            var labels: [Int] = []
            var bounds: [Int] = []
            while let top = stack.popLast() {
                var (state, lo, hi, depth) = top
                // A key ending at this depth sorts first in its range.
                if lo < hi && keys[sorted[lo]].count == depth {
                    units[state].value = values[sorted[lo]]
                    units[state].score = scores?[sorted[lo]] ?? 0
                    lo += 1
                }
                if lo == hi { continue }
                labels.removeAll(keepingCapacity: true)
                bounds.removeAll(keepingCapacity: true)
                for k in lo..<hi {
                    let c = Int(keys[sorted[k]][depth])
                    if labels.last != c {
                        labels.append(c)
                        bounds.append(k)
                    }
                }
                bounds.append(hi)
                let base = findBase(labels)
                units[state].base = Int32(base)
                for c in labels { units[base + c].check = Int32(state) }
                for n in labels.indices.reversed() {
                    stack.append((base + labels[n], bounds[n], bounds[n + 1], depth + 1))
                }
            }
        }

        /// Smallest base ≥ 1 whose slots `base + label` are all free (first fit).
        mutating func findBase(_ labels: [Int]) -> Int {
            let first = labels[0]
            var position = max(nextCheckPosition, first + 1) - 1
            var occupied = 0
            var firstFree = true
            while true {
                position += 1
                ensure(position)
                if units[position].check != -1 {
                    occupied += 1
                    continue
                }
                if firstFree {
                    nextCheckPosition = position
                    firstFree = false
                }
                let base = position - first
                if base < 1 { continue }
                ensure(base + labels[labels.count - 1])
                var fits = true
                for c in labels.dropFirst() where units[base + c].check != -1 {
                    fits = false
                    break
                }
                if !fits { continue }
                // Mostly-full prefix: skip it next time.
                if Double(occupied) / Double(position - nextCheckPosition + 1) >= 0.95 {
                    nextCheckPosition = position
                }
                return base
            }
        }
    }
}
