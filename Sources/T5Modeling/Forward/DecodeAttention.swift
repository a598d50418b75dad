// A decode step's attention (self or cross) for every row and head at once, split across the worker pool: each
// (row, head) pair is scores = K·q, softmax (with the position bias for self-attention), context = Vᵀ·p. Run one
// pair at a time on the step's thread, batch-8 decode left the other core spinning for a fifth of every step
// (PERFORMANCE.md, "Decode attention on the pool, in C").
import T5Kernels
import T5Tensor

/// What the step's rows attend over in the current layer, and score rows for the pairs in flight.
final class DecodeAttention {
    /// Score rows: one per chunk of pairs in flight, so at most this many (enough for 16 threads' chunks).
    static let maxLanes = 16

    let heads: Int
    /// Score rows held (`min(capacity × heads, maxLanes)`), each `width` floats.
    let lanes: Int
    private(set) var width: Int
    private(set) var scores: FloatBuffer
    /// Per batch row: the keys and values it reads, how many positions, and its query position (self-attention bias).
    let keys, values: UnsafeMutablePointer<KVRows>
    let counts, queries: UnsafeMutablePointer<Int>

    init(capacity: Int, heads: Int, width: Int, placeholder: KVRows) {
        self.heads = heads
        lanes = Self.lanes(capacity: capacity, heads: heads)
        self.width = max(1, width)
        scores = FloatBuffer(count: lanes * self.width)
        keys = .filled(with: placeholder, count: capacity)
        values = .filled(with: placeholder, count: capacity)
        counts = .filled(with: 0, count: capacity)
        queries = .filled(with: 0, count: capacity)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
        counts.deallocate()
        queries.deallocate()
    }

    static func lanes(capacity: Int, heads: Int) -> Int { max(1, min(capacity * heads, maxLanes)) }

    /// Makes every score row hold at least `positions` keys (their contents are scratch).
    func grow(to positions: Int) {
        guard positions > width else { return }
        width = positions
        scores = FloatBuffer(count: lanes * width)
    }

    /// Batch row `b` attends over `count` positions of `keys`/`values`, as the query at `query`.
    @inline(__always)
    func set(row b: Int, keys k: KVRows, values v: KVRows, count: Int, query: Int) {
        keys[b] = k
        values[b] = v
        counts[b] = count
        queries[b] = query
    }
}

/// Everything the pool's chunks read; passed by pointer, so dispatch allocates and retains nothing.
private struct AttentionJob {
    let q, ctx, scores: UnsafeMutablePointer<Float>
    let width, heads, dkv, inner, chunk: Int
    let keys, values: UnsafeMutablePointer<KVRows>
    let counts, queries: UnsafeMutablePointer<Int>
    /// `bias[h * biasWidth + offset - minOffset]` is head h's bias at key-minus-query `offset`; nil: no bias.
    let bias: UnsafePointer<Float>?
    let biasWidth, minOffset: Int
}

extension T5Model {
    /// For rows `0..<batch` as set in `a`: `ctx[b, head] = softmax(K·q[b, head] (+ bias)) · V`, pairs across the pool.
    func attend(_ a: DecodeAttention, batch: Int, q: UnsafeMutablePointer<Float>, ctx: UnsafeMutablePointer<Float>,
                bias: PositionBiasTable?) {
        if let bias {
            // Row b reads the table at key-minus-query offsets -queries[b] ... counts[b] - 1 - queries[b] (the session
            // grows the table with the caches; this guards the unchecked reads below).
            for b in 0..<batch {
                precondition(-a.queries[b] >= bias.minOffset && a.counts[b] - 1 - a.queries[b] < bias.minOffset + bias.width,
                             "offsets outside the bias table")
            }
            bias.withOffsets(head: 0) { p0 in
                dispatchAttention(a, batch: batch, q: q, ctx: ctx, bias: p0 + bias.minOffset, biasWidth: bias.width,
                                  minOffset: bias.minOffset)
            }
        } else {
            dispatchAttention(a, batch: batch, q: q, ctx: ctx, bias: nil, biasWidth: 0, minOffset: 0)
        }
    }

    private func dispatchAttention(
        _ a: DecodeAttention, batch: Int, q: UnsafeMutablePointer<Float>, ctx: UnsafeMutablePointer<Float>,
        bias: UnsafePointer<Float>?, biasWidth: Int, minOffset: Int
    ) {
        let pairs = batch * a.heads
        var longest = 0
        for b in 0..<batch { longest = max(longest, a.counts[b]) }
        precondition(longest <= a.width, "score rows narrower than the positions attended")
        // Small steps (batch 1, short caches) stay on this thread: a pool wake-up costs more than their arithmetic.
        let chunk = pairs * longest * config.dKV < 1 << 15 ? pairs : (pairs + a.lanes - 1) / a.lanes
        var job = AttentionJob(
            q: q, ctx: ctx, scores: a.scores.pointer, width: a.width, heads: a.heads, dkv: config.dKV,
            inner: config.innerDim, chunk: chunk, keys: a.keys, values: a.values, counts: a.counts,
            queries: a.queries, bias: bias, biasWidth: biasWidth, minOffset: minOffset)
        withUnsafePointer(to: &job) { p in
            runtime.pool.parallelFor(count: pairs, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
                attendPairs(context.assumingMemoryBound(to: AttentionJob.self), begin, end)
            }
        }
    }
}

/// Pairs `begin..<end` (pair i is row i / heads, head i % heads), on the score row of their chunk.
private func attendPairs(_ job: UnsafePointer<AttentionJob>, _ begin: Int, _ end: Int) {
    let j = job.pointee
    let s = j.scores + (begin / j.chunk) * j.width
    for i in begin..<end {
        let b = i / j.heads, head = i % j.heads, n = j.counts[b]
        let offset = b * j.inner + head * j.dkv
        j.keys[b].scores(head: head, count: n, query: j.q + offset, into: s)
        if let bias = j.bias {
            // Key k sits at offset k - query: head's row of the table, shifted so that index k reads it.
            softmax(s, count: n, adding: bias + head * j.biasWidth - j.minOffset - j.queries[b])
        } else {
            softmax(s, count: n)
        }
        j.values[b].context(head: head, count: n, weights: s, into: j.ctx + offset)
    }
}
