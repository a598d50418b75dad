// The decoder's self-attention keys and values, one block of memory per row that grows with the row (first chunk,
// then doubling, never past the session's maxSteps): a request pays for the tokens it decodes, not for maxNewTokens.
// Growth is the only allocation after a row's first step; the step itself reads and writes preallocated memory.
import T5Kernels
import T5Tensor

/// Per slot, one allocation of `steps[slot]` positions for every layer:
/// `[layers, 2 (keys, values), steps, heads]` f32 scales (int8 only), then `[layers, 2, steps, inner]` elements.
final class SelfAttentionCache {
    let format: KVCacheFormat
    let layers, capacity, inner, heads: Int
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

    /// The attention kernels' level (see `KVRows.kernels`).
    let kernels: InstructionSet

    init(format: KVCacheFormat, layers: Int, capacity: Int, inner: Int, heads: Int, maxSteps: Int, kernels: InstructionSet) {
        self.format = format
        self.kernels = kernels
        self.layers = layers
        self.capacity = capacity
        self.inner = inner
        self.heads = heads
        self.maxSteps = maxSteps
        storage = .filled(with: nil, count: capacity)
        spare = .filled(with: nil, count: capacity)
        steps = .filled(with: 0, count: capacity)
    }

    deinit {
        for slot in 0..<capacity { release(slot: slot) }
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
        let fresh = PageAllocation.allocate(byteCount: slotBytes(steps: newSteps))
        if let from = storage[slot] { copy(from: from, steps: old, to: fresh, steps: newSteps, used: used) }
        release(slot: slot)
        storage[slot] = fresh
        steps[slot] = newSteps
        allocatedBytes += slotBytes(steps: newSteps)
    }

    /// Frees `slot`'s storage and spare.
    func release(slot: Int) {
        let bytes = slotBytes(steps: steps[slot])
        if let p = storage[slot] { PageAllocation.deallocate(p, byteCount: bytes); allocatedBytes -= bytes; storage[slot] = nil }
        if let p = spare[slot] { PageAllocation.deallocate(p, byteCount: bytes); allocatedBytes -= bytes; spare[slot] = nil }
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
                spare[target] = PageAllocation.allocate(byteCount: slotBytes(steps: steps[target]))
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

    /// Keys (`part` 0) or values (1) of `layer` in `slot`, `[steps, inner]`.
    @inline(__always)
    func rows(_ slot: Int, layer: Int, part: Int) -> KVRows {
        let s = steps[slot], base = storage[slot]!
        let scales = format == .int8 ? (base + (2 * layer + part) * s * heads * 4).assumingMemoryBound(to: Float.self) : nil
        return KVRows(format: format, data: base + dataOffset(steps: s) + (2 * layer + part) * s * inner * format.elementBytes,
                      scales: scales, inner: inner, heads: heads, kernels: kernels)
    }
}
