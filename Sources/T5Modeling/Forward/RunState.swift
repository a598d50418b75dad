// Every activation buffer and cache of one request, allocated once before the first token.
import T5Tensor

/// A right-padded batch of prompts: row `b` holds `lengths[b]` real tokens, then padding that attention never sees.
struct PromptBatch {
    let batch: Int
    let length: Int      // longest prompt
    let ids: [Int]       // [batch, length], padding = pad id
    let lengths: [Int]   // [batch]

    init(_ prompts: [[Int]], padId: Int) {
        batch = prompts.count
        length = prompts.map(\.count).max() ?? 0
        lengths = prompts.map(\.count)
        var ids = [Int](repeating: padId, count: batch * length)
        for (b, p) in prompts.enumerated() { for (i, t) in p.enumerated() { ids[b * length + i] = t } }
        self.ids = ids
    }
}

/// Scratch for the encoder stack over `rows = batch * length` positions.
final class EncoderState {
    let x: FloatBuffer       // [rows, d_model] residual stream; holds the encoder output at the end
    let h: FloatBuffer       // [rows, d_model] normalised input of the current sub-layer
    let qkv: FloatBuffer     // [rows, 3 * inner] q, k, v of each position side by side
    let ctx: FloatBuffer     // [rows, inner] attention output before `o`
    let scores: FloatBuffer  // [length, length] one head of one row at a time
    let ff: FloatBuffer      // [rows, d_ff], or [rows, 2 * d_ff] when gated (both halves, then the gated product)

    init(config c: T5Config, rows: Int, length: Int, gated: Bool) {
        x = FloatBuffer(count: rows * c.dModel)
        h = FloatBuffer(count: rows * c.dModel)
        qkv = FloatBuffer(count: rows * 3 * c.innerDim)
        ctx = FloatBuffer(count: rows * c.innerDim)
        scores = FloatBuffer(count: length * length)
        ff = FloatBuffer(count: rows * (gated ? 2 : 1) * c.dFF)
    }

    /// Bytes `init` would allocate, so an oversized request is refused before allocation.
    /// In `Double` so that absurd requests cannot overflow the estimate.
    static func bytes(config c: T5Config, rows: Int, length: Int, gated: Bool) -> Double {
        let perRow = Double(2 * c.dModel + 4 * c.innerDim + (gated ? 2 : 1) * c.dFF)
        return (Double(rows) * perRow + Double(length) * Double(length)) * 4
    }
}

/// Decoder caches and scratch for up to `capacity` rows, each decoding up to `maxSteps` tokens.
/// Rows live in slots; `slots[0..<batch]` lists the slots of the next step in batch order, so rows can join and
/// leave between steps (continuous batching). Each row has its own position and reads its own prompt's
/// cross-attention keys/values (several rows may read one prompt: beams, samples).
final class DecoderState {
    let capacity: Int
    let maxSteps: Int
    let layers: Int
    /// Per decoder layer `[capacity, maxSteps, inner]`: self-attention keys/values of each slot's tokens so far.
    var selfK, selfV: [FloatBuffer]
    /// Same shape; the target of `reorder`, then swapped in (beam search), allocated on first use.
    var spareK: [FloatBuffer] = [], spareV: [FloatBuffer] = []
    let x, h: FloatBuffer        // [capacity, d_model]   (rows in batch order)
    let q, k, v, ctx: FloatBuffer // [capacity, inner]
    var scores: FloatBuffer      // [max(maxSteps, longest prompt)] one head of one row at a time
    let ff: FloatBuffer          // [capacity, d_ff]
    let gate: FloatBuffer?       // [capacity, d_ff]
    let logits: FloatBuffer      // [capacity, vocab]      (rows in batch order)
    /// Decoder self-attention bias by head and key offset `-(maxSteps-1)...0`.
    let positionBias: PositionBiasTable

    // Rows, by slot. Raw pointers: the decode step reads them without bounds checks or reference counting.
    /// Tokens fed so far; the next token goes to this position.
    let position: UnsafeMutablePointer<Int>
    /// Real length of the prompt the slot reads.
    let encoderLength: UnsafeMutablePointer<Int>
    /// At `l * capacity + slot`: that slot's prompt's cross-attention keys (values) in decoder layer `l`, `[length, inner]`.
    let crossK, crossV: UnsafeMutablePointer<UnsafePointer<Float>>
    /// The slots of the next step, in batch order; the first `batch` are valid.
    let slots: UnsafeMutablePointer<Int>
    var batch = 0

    init(config c: T5Config, capacity: Int, maxSteps: Int, encoderLength: Int, gated: Bool,
         positionBiasTable: UnsafePointer<Float>) {
        self.capacity = capacity
        self.maxSteps = maxSteps
        layers = c.numDecoderLayers
        selfK = (0..<layers).map { _ in FloatBuffer(count: capacity * maxSteps * c.innerDim) }
        selfV = (0..<layers).map { _ in FloatBuffer(count: capacity * maxSteps * c.innerDim) }
        x = FloatBuffer(count: capacity * c.dModel)
        h = FloatBuffer(count: capacity * c.dModel)
        q = FloatBuffer(count: capacity * c.innerDim)
        k = FloatBuffer(count: capacity * c.innerDim)
        v = FloatBuffer(count: capacity * c.innerDim)
        ctx = FloatBuffer(count: capacity * c.innerDim)
        scores = FloatBuffer(count: max(maxSteps, encoderLength))
        ff = FloatBuffer(count: capacity * c.dFF)
        gate = gated ? FloatBuffer(count: capacity * c.dFF) : nil
        logits = FloatBuffer(count: capacity * c.vocabSize)
        positionBias = PositionBiasTable(
            table: positionBiasTable, heads: c.numHeads, numBuckets: c.relativeAttentionNumBuckets,
            maxDistance: c.relativeAttentionMaxDistance, bidirectional: false, offsets: -(maxSteps - 1)...0)
        position = .allocate(capacity: capacity)
        position.initialize(repeating: 0, count: capacity)
        self.encoderLength = .allocate(capacity: capacity)
        self.encoderLength.initialize(repeating: 0, count: capacity)
        crossK = .allocate(capacity: layers * capacity)
        crossK.initialize(repeating: UnsafePointer(x.pointer), count: layers * capacity)
        crossV = .allocate(capacity: layers * capacity)
        crossV.initialize(repeating: UnsafePointer(x.pointer), count: layers * capacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
    }

    deinit {
        position.deallocate()
        encoderLength.deallocate()
        crossK.deallocate()
        crossV.deallocate()
        slots.deallocate()
    }

    /// Makes `slot` a fresh row reading prompt `prompt` of `encoded`.
    func assign(slot: Int, to encoded: EncodedPrompts, prompt: Int) {
        position[slot] = 0
        encoderLength[slot] = encoded.lengths[prompt]
        for l in 0..<layers {
            crossK[l * capacity + slot] = encoded.keys(layer: l, prompt: prompt)
            crossV[l * capacity + slot] = encoded.values(layer: l, prompt: prompt)
        }
        if encoded.lengths[prompt] > scores.count { scores = FloatBuffer(count: encoded.lengths[prompt]) }
    }

    /// Slot `targets[i]` continues from what slot `sources[i]` has seen so far (beam search keeps its best beams).
    /// Slots not in `targets` keep their caches (other requests' rows). Targets are distinct; a source may also be
    /// a target, so sources are first copied aside.
    func reorder(targets: [Int], sources: [Int], innerDim inner: Int) {
        if spareK.isEmpty {
            spareK = selfK.map { FloatBuffer(count: $0.count) }
            spareV = selfV.map { FloatBuffer(count: $0.count) }
        }
        let rowFloats = maxSteps * inner
        let positions = sources.map { position[$0] }
        let moved = targets.indices.filter { targets[$0] != sources[$0] }
        for l in 0..<selfK.count {
            for i in moved {
                let used = positions[i] * inner, from = sources[i] * rowFloats, to = targets[i] * rowFloats
                (spareK[l].pointer + to).update(from: selfK[l].pointer + from, count: used)
                (spareV[l].pointer + to).update(from: selfV[l].pointer + from, count: used)
            }
            for i in moved {
                let used = positions[i] * inner, at = targets[i] * rowFloats
                (selfK[l].pointer + at).update(from: spareK[l].pointer + at, count: used)
                (selfV[l].pointer + at).update(from: spareV[l].pointer + at, count: used)
            }
        }
        for (target, p) in zip(targets, positions) { position[target] = p }
    }

    /// Bytes `init` (and one `reorder`, when `reorderable`) would allocate for a session of `capacity` rows whose
    /// prompts are up to `encoderLength` long; in `Double` so absurd requests cannot overflow.
    static func sessionBytes(config c: T5Config, capacity: Int, maxSteps: Int, encoderLength: Int,
                             gated: Bool, reorderable: Bool) -> Double {
        let b = Double(capacity), t = Double(maxSteps), l = Double(encoderLength)
        let caches = Double(c.numDecoderLayers) * Double(2 * c.innerDim) * (reorderable ? 2 : 1) * b * t
        let scratch = b * Double(2 * c.dModel + 4 * c.innerDim + (gated ? 2 : 1) * c.dFF + c.vocabSize)
        let bias = Double(c.numHeads) * t
        return (caches + scratch + bias + max(t, l)) * 4
    }

    /// Bytes of a whole request: `batch` rows over `prompts` prompts of up to `encoderLength` tokens, their
    /// cross-attention caches included (`EncodedPrompts.bytes`); what `DecodingSession(model:prompts:…)` checks.
    static func bytes(config c: T5Config, batch: Int, prompts: Int, maxSteps: Int, encoderLength: Int,
                      gated: Bool, reorderable: Bool) -> Double {
        EncodedPrompts.bytes(config: c, prompts: prompts, length: encoderLength)
            + sessionBytes(config: c, capacity: batch, maxSteps: maxSteps, encoderLength: encoderLength,
                           gated: gated, reorderable: reorderable)
    }
}
