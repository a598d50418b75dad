// T5's relative position buckets and the per-head bias tables built from them.
import Foundation
import T5Kernels

/// transformers' `T5Attention._relative_position_bucket`, with its float32 arithmetic.
/// `relativePosition` is key position minus query position.
/// Bidirectional (encoder): half the buckets for keys after the query. Unidirectional (decoder): only the past counts.
/// Distances below `maxExact` get a bucket each; longer ones share log-spaced buckets up to `maxDistance`.
func relativePositionBucket(_ relativePosition: Int, bidirectional: Bool, numBuckets: Int, maxDistance: Int) -> Int {
    var buckets = numBuckets
    var bucket = 0
    var distance: Int
    if bidirectional {
        buckets /= 2
        if relativePosition > 0 { bucket += buckets }
        distance = abs(relativePosition)
    } else {
        distance = -min(relativePosition, 0)
    }
    let maxExact = buckets / 2
    if distance < maxExact { return bucket + distance }
    // Float32 throughout, as torch computes it; the Python `math.log` divisor is a double rounded to float.
    let ratio = Float(distance) / Float(maxExact)
    let span = Float(log(Double(maxDistance) / Double(maxExact)))
    let large = maxExact + Int(log(ratio) / span * Float(buckets - maxExact))
    return bucket + min(large, buckets - 1)
}

/// Bias added to attention scores, by head and by key-minus-query offset, read from the
/// `relative_attention_bias` table (`[num_buckets, num_heads]`) that only block 0 of each stack owns.
struct PositionBiasTable {
    let heads: Int
    /// Offsets covered: `minOffset ... minOffset + width - 1`.
    let minOffset: Int
    let width: Int
    /// `[heads, width]`
    let values: [Float]

    init(table: UnsafePointer<Float>, heads: Int, numBuckets: Int, maxDistance: Int,
         bidirectional: Bool, offsets: ClosedRange<Int>) {
        self.heads = heads
        minOffset = offsets.lowerBound
        width = offsets.count
        var values = [Float](repeating: 0, count: heads * offsets.count)
        for (i, offset) in offsets.enumerated() {
            let b = relativePositionBucket(offset, bidirectional: bidirectional, numBuckets: numBuckets, maxDistance: maxDistance)
            for h in 0..<heads { values[h * offsets.count + i] = table[b * heads + h] }
        }
        self.values = values
    }

    /// Bias of head `h` for a key at `offset` positions from the query.
    @inline(__always)
    func bias(head h: Int, offset: Int) -> Float {
        values[h * width + offset - minOffset]
    }

    /// Calls `body` with a pointer `p` such that `p[offset]` is head `h`'s bias at `offset` (key minus query), for every
    /// offset the table covers (`p` itself may point before the first one).
    @inline(__always)
    func withOffsets<R>(head h: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        values.withUnsafeBufferPointer { body($0.baseAddress! + h * width - minOffset) }
    }

    /// `softmax(scores[j] + bias(head: h, offset: j - query))` over keys `j` in `0..<keys`, in one pass fewer than
    /// `add` then `softmax` (the encoder's rows of scores).
    @inline(__always)
    func addSoftmax(head h: Int, query: Int, keys: Int, to scores: UnsafeMutablePointer<Float>) {
        precondition(-query >= minOffset && keys - 1 - query < minOffset + width, "offsets outside the bias table")
        values.withUnsafeBufferPointer { v in
            softmax(scores, count: keys, adding: v.baseAddress! + h * width - query - minOffset)
        }
    }

    /// `scores[j] += bias(head: h, offset: j - query)` for keys `j` in `0..<keys`: one contiguous run of the table.
    @inline(__always)
    func add(head h: Int, query: Int, keys: Int, to scores: UnsafeMutablePointer<Float>) {
        precondition(-query >= minOffset && keys - 1 - query < minOffset + width, "offsets outside the bias table")
        values.withUnsafeBufferPointer { v in
            T5Kernels.add(v.baseAddress! + h * width - query - minOffset, to: scores, count: keys)
        }
    }
}
