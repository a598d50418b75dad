// The decoder's self-attention keys and values, one block of memory per row that grows with the row (first chunk,
// then doubling, never past the session's maxSteps): a request pays for the tokens it decodes, not for maxNewTokens.
// Growth is the only allocation after a row's first step; the step itself reads and writes preallocated memory.
import T5Kernels

/// Per slot, one allocation of `steps[slot]` positions for every layer:
/// `[layers, 2 (keys, values), steps, heads]` f32 scales (int8 only), then `[layers, 2, steps, inner]` elements.
final class SelfAttentionCache {
    let format: KVCacheFormat
    let layers, capacity, inner, heads, dkv: Int
    /// Positions a row can ever hold.
    let maxSteps: Int
    /// Positions a row's first allocation holds.
    static let firstChunk = 32

    /// Per slot: its storage (nil until its first step), and the positions it holds.
    private let storage: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let steps: UnsafeMutablePointer<Int>
    /// Per slot: where `reorder` copies a row before swapping it in; same size as `storage` (nil until needed).
    private let spare: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Bytes held by every slot's storage and spare.
    private(set) var allocatedBytes = 0

    init(format: KVCacheFormat, layers: Int, capacity: Int, inner: Int, heads: Int, maxSteps: Int) {
        self.format = format
        self.layers = layers
        self.capacity = capacity
        self.inner = inner
        self.heads = heads
        dkv = inner / heads
        self.maxSteps = maxSteps
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: nil, count: capacity)
        spare = .allocate(capacity: capacity)
        spare.initialize(repeating: nil, count: capacity)
        steps = .allocate(capacity: capacity)
        steps.initialize(repeating: 0, count: capacity)
    }

    deinit {
        for slot in 0..<capacity {
            storage[slot]?.deallocate()
            spare[slot]?.deallocate()
        }
        storage.deallocate()
        spare.deallocate()
        steps.deallocate()
    }

    // MARK: Sizes

    /// Bytes of one slot's storage holding `steps` positions.
    func slotBytes(steps: Int) -> Int {
        layers * steps * format.bytesPerStepAndLayer(innerDim: inner, heads: heads)
    }

    /// Positions a slot at `position` (the next token's) must hold, after growth: unchanged if it fits.
    func stepsNeeded(slot: Int, position: Int) -> Int {
        let have = steps[slot]
        guard position >= have else { return have }
        return min(maxSteps, max(Self.firstChunk, 2 * have, position + 1))
    }

    // MARK: Growth

    /// Gives `slot` room for `newSteps` positions, keeping its first `used`. The spare, if any, is dropped
    /// (the next `reorder` makes one of the new size).
    func grow(slot: Int, to newSteps: Int, used: Int) {
        let old = steps[slot]
        guard newSteps > old else { return }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: max(slotBytes(steps: newSteps), 1), alignment: 64)
        if let from = storage[slot] { copy(from: from, steps: old, to: fresh, steps: newSteps, used: used) }
        release(slot: slot)
        storage[slot] = fresh
        steps[slot] = newSteps
        allocatedBytes += slotBytes(steps: newSteps)
    }

    /// Frees `slot`'s storage and spare.
    func release(slot: Int) {
        let bytes = slotBytes(steps: steps[slot])
        if let p = storage[slot] { p.deallocate(); allocatedBytes -= bytes; storage[slot] = nil }
        if let p = spare[slot] { p.deallocate(); allocatedBytes -= bytes; spare[slot] = nil }
        steps[slot] = 0
    }

    /// Bytes a `reorder` into `slot` would add (its spare, made on first use).
    func spareBytesNeeded(slot: Int) -> Int { spare[slot] == nil ? slotBytes(steps: steps[slot]) : 0 }

    func hasSpare(slot: Int) -> Bool { spare[slot] != nil }

    // MARK: Reorder

    /// Slot `targets[i]` continues from slot `sources[i]`'s first `positions[i]` positions. Each target already holds
    /// at least that many positions. Sources are copied into the targets' spares, which are then swapped in, so a
    /// source that is also a target is read before it is replaced.
    func reorder(targets: [Int], sources: [Int], positions: [Int]) {
        for (i, target) in targets.enumerated() {
            if spare[target] == nil {
                spare[target] = .allocate(byteCount: max(slotBytes(steps: steps[target]), 1), alignment: 64)
                allocatedBytes += slotBytes(steps: steps[target])
            }
            if let from = storage[sources[i]] {
                copy(from: from, steps: steps[sources[i]], to: spare[target]!, steps: steps[target], used: positions[i])
            }
        }
        for target in targets { swap(&storage[target], &spare[target]) }
    }

    /// Copies the first `used` positions of every layer's keys, values (and scales) between layouts of
    /// `fromSteps` and `toSteps` positions.
    private func copy(from: UnsafeMutableRawPointer, steps fromSteps: Int, to: UnsafeMutableRawPointer, steps toSteps: Int, used: Int) {
        let e = format.elementBytes
        for part in 0..<(2 * layers) {
            if format == .int8 {
                (to + part * toSteps * heads * 4).copyMemory(from: from + part * fromSteps * heads * 4, byteCount: used * heads * 4)
            }
            let src = from + dataOffset(steps: fromSteps) + part * fromSteps * inner * e
            let dst = to + dataOffset(steps: toSteps) + part * toSteps * inner * e
            dst.copyMemory(from: src, byteCount: used * inner * e)
        }
    }

    // MARK: The decode step

    private func dataOffset(steps s: Int) -> Int { format == .int8 ? 2 * layers * s * heads * 4 : 0 }

    /// Start of keys (`part` 0) or values (1) of `layer` in `slot`.
    @inline(__always)
    private func data(_ slot: Int, layer: Int, part: Int) -> UnsafeMutableRawPointer {
        let s = steps[slot]
        return storage[slot]! + dataOffset(steps: s) + (2 * layer + part) * s * inner * format.elementBytes
    }

    @inline(__always)
    private func scales(_ slot: Int, layer: Int, part: Int) -> UnsafeMutablePointer<Float> {
        (storage[slot]! + (2 * layer + part) * steps[slot] * heads * 4).assumingMemoryBound(to: Float.self)
    }

    /// The f32 keys or values of `slot` in `layer`, `[steps, inner]` (f32 format only): the original code path.
    @inline(__always)
    func f32(_ slot: Int, layer: Int, part: Int) -> UnsafeMutablePointer<Float> {
        data(slot, layer: layer, part: part).assumingMemoryBound(to: Float.self)
    }

    /// Stores the new key and value (`[inner]` each) of `slot` at `position`, narrowed to the cache's format.
    func store(_ slot: Int, layer: Int, position t: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        store(slot, layer: layer, part: 0, position: t, key)
        store(slot, layer: layer, part: 1, position: t, value)
    }

    @inline(__always)
    private func store(_ slot: Int, layer: Int, part: Int, position t: Int, _ x: UnsafePointer<Float>) {
        let dst = data(slot, layer: layer, part: part) + t * inner * format.elementBytes
        switch format {
        case .f32:
            dst.assumingMemoryBound(to: Float.self).update(from: x, count: inner)
        case .f16:
            let h = dst.assumingMemoryBound(to: UInt16.self)
            for i in 0..<inner { h[i] = Float16(max(-65504, min(65504, x[i]))).bitPattern }
        case .int8:
            Int8Quantize.quantize(x, rows: heads, cols: dkv, values: dst.assumingMemoryBound(to: Int8.self),
                                  scales: scales(slot, layer: layer, part: part) + t * heads)
        }
    }

    /// `scores[j] = key_j · q` over head `head`'s part of the first `count` keys of `slot`.
    func scores(_ slot: Int, layer: Int, head: Int, count: Int, query q: UnsafePointer<Float>, into scores: UnsafeMutablePointer<Float>) {
        let e = format.elementBytes, k = data(slot, layer: layer, part: 0) + head * dkv * e
        switch format {
        case .f32:
            matvec(k.assumingMemoryBound(to: Float.self), lda: inner, rows: count, cols: dkv, q, into: scores)
        case .f16:
            packedMatvec(F16Elements.self, k, rowBytes: inner * e, rows: count, cols: dkv, scales: nil, scaleStride: 0, q, into: scores)
        case .int8:
            packedMatvec(Int8Elements.self, k, rowBytes: inner, rows: count, cols: dkv,
                         scales: scales(slot, layer: layer, part: 0) + head, scaleStride: heads, q, into: scores)
        }
    }

    /// `out = Σ_j weights[j] · value_j` over head `head`'s part of the first `count` values of `slot`.
    func context(_ slot: Int, layer: Int, head: Int, count: Int, weights p: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let e = format.elementBytes, v = data(slot, layer: layer, part: 1) + head * dkv * e
        switch format {
        case .f32:
            matvecTransposed(v.assumingMemoryBound(to: Float.self), lda: inner, rows: count, cols: dkv, p, into: out)
        case .f16:
            packedMatvecTransposed(F16Elements.self, v, rowBytes: inner * e, rows: count, cols: dkv, scales: nil, scaleStride: 0, p, into: out)
        case .int8:
            packedMatvecTransposed(Int8Elements.self, v, rowBytes: inner, rows: count, cols: dkv,
                                   scales: scales(slot, layer: layer, part: 1) + head, scaleStride: heads, p, into: out)
        }
    }
}
