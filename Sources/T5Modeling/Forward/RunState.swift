// Every activation buffer and cache of one request, allocated once before the first token.
import T5Kernels
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

    private init(batch: Int, length: Int, ids: [Int], lengths: [Int]) {
        self.batch = batch
        self.length = length
        self.ids = ids
        self.lengths = lengths
    }

    /// Rows the encoder runs over at once: the prompts go through it in groups of at most this many padded rows
    /// (at least one prompt), so its scratch stays small however many prompts a request has, while each product
    /// still has hundreds of rows. 512 since the products run on the pool (no per-call packing of the inputs to
    /// amortise): 10 MB less peak RSS than 1,024 at batch 8, prompt 256, at the same speed (PERFORMANCE.md, "Encoder
    /// in groups of prompts", "Scratch from the kernel's pages").
    static let encoderGroupRows = 512

    /// Prompts per encoder group (see `encoderGroupRows`).
    var promptsPerEncoderGroup: Int { max(1, min(batch, Self.encoderGroupRows / max(1, length))) }

    /// Padded rows of the largest encoder group: what the encoder's scratch is sized for.
    var encoderGroupRows: Int { promptsPerEncoderGroup * length }

    /// Prompts `range`, as a batch padded to this batch's length (their rows line up with this batch's).
    func slice(_ range: Range<Int>) -> PromptBatch {
        PromptBatch(batch: range.count, length: length, ids: Array(ids[(range.lowerBound * length)..<(range.upperBound * length)]),
                    lengths: Array(lengths[range]))
    }

    /// The encoder's groups, in order.
    var encoderGroups: [Range<Int>] {
        stride(from: 0, to: batch, by: promptsPerEncoderGroup).map { $0..<min(batch, $0 + promptsPerEncoderGroup) }
    }
}

/// Scratch for the encoder stack over `rows = batch * length` positions. Buffers whose contents are never needed at the
/// same time share memory, since the encoder's scratch is alive while the prompts' cross-attention caches fill (the peak
/// of a batch's memory; PERFORMANCE.md, "Encoder scratch shared between sub-layers"):
/// - `h` holds the normalised input of a sub-layer, then the attention's output (read by `o`), then the next norm;
/// - `work` holds q, k and v side by side during attention, then the feed-forward's activations.
final class EncoderState {
    let x: FloatBuffer       // [rows, d_model] residual stream; holds the encoder output at the end
    let h: FloatBuffer       // [rows, max(d_model, inner)] normalised input, or attention output (rows `inner` apart)
    let work: FloatBuffer    // [rows, max(3 * inner, ff)]: q, k, v of each position side by side, or ff below
    let head: FloatBuffer    // one head's keys packed for the AVX-512 kernel, or its values transposed (AVX2)
    let scores: FloatBuffer  // [length, length] one head of one row at a time

    /// q, k and v of each position side by side (`3 * inner` floats per row), during attention.
    var qkv: UnsafeMutablePointer<Float> { work.pointer }
    /// `[rows, d_ff]`, or `[rows, 2 * d_ff]` when gated (both halves, then the gated product), in the feed-forward.
    var ff: UnsafeMutablePointer<Float> { work.pointer }
    /// The attention's output (`inner` floats per row), before `o`.
    var ctx: UnsafeMutablePointer<Float> { h.pointer }

    init(config c: T5Config, rows: Int, length: Int, gated: Bool) {
        let (hWidth, workWidth) = Self.widths(c, gated: gated)
        x = FloatBuffer(count: rows * c.dModel)
        h = FloatBuffer(count: rows * hWidth)
        work = FloatBuffer(count: rows * workWidth)
        head = FloatBuffer(count: packedKeyFloats(n: length, dkv: c.dKV))
        scores = FloatBuffer(count: length * length)
    }

    /// Floats per row of `h` and `work`.
    private static func widths(_ c: T5Config, gated: Bool) -> (h: Int, work: Int) {
        (max(c.dModel, c.innerDim), max(3 * c.innerDim, (gated ? 2 : 1) * c.dFF))
    }

    /// Bytes `init` would allocate, so an oversized request is refused before allocation.
    /// In `Double` so that absurd requests cannot overflow the estimate.
    static func bytes(config c: T5Config, rows: Int, length: Int, gated: Bool) -> Double {
        let (hWidth, workWidth) = widths(c, gated: gated)
        let perRow = Double(c.dModel + hWidth + workWidth)
        let head = (Double(length) / 32).rounded(.up) * 32 * Double(c.dKV)  // packedKeyFloats
        return (Double(rows) * perRow + Double(length) * Double(length) + head) * 4
    }
}

/// Decoder caches and scratch for up to `capacity` rows, each decoding up to `maxSteps` tokens.
/// Rows live in slots; `slots[0..<batch]` lists the slots of the next step in batch order, so rows can join and
/// leave between steps (continuous batching). Each row has its own position and reads its own prompt's
/// cross-attention keys/values (several rows may read one prompt: beams, samples).
/// The self-attention cache grows with each row (`SelfAttentionCache`); the scratch is allocated once.
final class DecoderState {
    let capacity: Int
    let maxSteps: Int
    let layers: Int
    /// Every slot's self-attention keys/values so far.
    let cache: SelfAttentionCache
    let x, h: FloatBuffer        // [capacity, d_model]   (rows in batch order)
    let q, k, v, ctx: FloatBuffer // [capacity, inner]
    /// What each row attends over in the current layer, and the score rows (as wide as the longest cache or prompt).
    let attention: DecodeAttention
    let ff: FloatBuffer          // [capacity, d_ff]
    let gate: FloatBuffer?       // [capacity, d_ff]
    let logits: FloatBuffer      // [capacity, vocab]      (rows in batch order)
    /// Decoder self-attention bias by head and key offset `-(width-1)...0`, as wide as the longest row's cache.
    private(set) var positionBias: PositionBiasTable
    private let config: T5Config
    private let positionBiasTable: UnsafePointer<Float>

    // Rows, by slot. Raw pointers: the decode step reads them without bounds checks or reference counting.
    /// Tokens fed so far; the next token goes to this position.
    let position: UnsafeMutablePointer<Int>
    /// Real length of the prompt the slot reads.
    let encoderLength: UnsafeMutablePointer<Int>
    /// At `l * capacity + slot`: that slot's prompt's cross-attention keys (values) in decoder layer `l`, `[length, inner]`.
    let crossK, crossV: UnsafeMutablePointer<KVRows>
    /// The slots of the next step, in batch order; the first `batch` are valid.
    let slots: UnsafeMutablePointer<Int>
    var batch = 0

    init(config c: T5Config, capacity: Int, maxSteps: Int, encoderLength: Int, gated: Bool,
         positionBiasTable: UnsafePointer<Float>, kvCache: KVCacheFormat = .f32, kernels: InstructionSet = .portable) {
        self.capacity = capacity
        self.maxSteps = maxSteps
        layers = c.numDecoderLayers
        config = c
        self.positionBiasTable = positionBiasTable
        cache = SelfAttentionCache(format: kvCache, layers: layers, capacity: capacity, inner: c.innerDim,
                                   heads: c.numHeads, maxSteps: maxSteps, kernels: kernels)
        x = FloatBuffer(count: capacity * c.dModel)
        h = FloatBuffer(count: capacity * c.dModel)
        q = FloatBuffer(count: capacity * c.innerDim)
        k = FloatBuffer(count: capacity * c.innerDim)
        v = FloatBuffer(count: capacity * c.innerDim)
        ctx = FloatBuffer(count: capacity * c.innerDim)
        ff = FloatBuffer(count: capacity * c.dFF)
        gate = gated ? FloatBuffer(count: capacity * c.dFF) : nil
        logits = FloatBuffer(count: capacity * c.vocabSize)
        positionBias = Self.bias(config: c, table: positionBiasTable, width: 1)
        position = .filled(with: 0, count: capacity)
        self.encoderLength = .filled(with: 0, count: capacity)
        // Placeholders until a row joins; never read for a slot without a row.
        let none = KVRows(format: .f32, data: UnsafeMutableRawPointer(x.pointer), scales: nil, inner: c.innerDim, heads: c.numHeads)
        attention = DecodeAttention(capacity: capacity, heads: c.numHeads, width: encoderLength, placeholder: none)
        crossK = .filled(with: none, count: layers * capacity)
        crossV = .filled(with: none, count: layers * capacity)
        slots = .filled(with: 0, count: capacity)
    }

    deinit {
        position.deallocate()
        encoderLength.deallocate()
        crossK.deallocate()
        crossV.deallocate()
        slots.deallocate()
    }

    private static func bias(config c: T5Config, table: UnsafePointer<Float>, width: Int) -> PositionBiasTable {
        PositionBiasTable(table: table, heads: c.numHeads, numBuckets: c.relativeAttentionNumBuckets,
                          maxDistance: c.relativeAttentionMaxDistance, bidirectional: false, offsets: -(width - 1)...0)
    }

    /// Makes `slot` a fresh row reading prompt `prompt` of `encoded`.
    func assign(slot: Int, to encoded: EncodedPrompts, prompt: Int) {
        position[slot] = 0
        encoderLength[slot] = encoded.lengths[prompt]
        for l in 0..<layers {
            crossK[l * capacity + slot] = encoded.keys(layer: l, prompt: prompt)
            crossV[l * capacity + slot] = encoded.values(layer: l, prompt: prompt)
        }
        attention.grow(to: encoded.lengths[prompt])
    }

    /// Ends `slot`'s row: a cache grown past the first chunk is freed, a first chunk is kept for the next row.
    func vacate(slot: Int) {
        if cache.steps[slot] > SelfAttentionCache.firstChunk { cache.release(slot: slot) }
    }

    // MARK: Growth

    /// Bytes held now that depend on the rows' progress: caches, the bias table and the score rows.
    var grownBytes: Int {
        cache.allocatedBytes + (config.numHeads * positionBias.width + attention.lanes * attention.width) * 4
    }

    /// Bytes `grownBytes` would gain if each planned slot grew to hold its `steps` positions. A slot that has a
    /// reorder spare counts twice: the next `reorder` remakes it at the new size.
    func growthBytes(_ plans: [(slot: Int, steps: Int)]) -> Int {
        var added = 0, widest = 0
        for (slot, steps) in plans where steps > cache.steps[slot] {
            let copies = cache.hasSpare(slot: slot) ? 2 : 1
            added += copies * (cache.slotBytes(steps: steps) - cache.slotBytes(steps: cache.steps[slot]))
            widest = max(widest, steps)
        }
        let bias = config.numHeads * max(0, widest - positionBias.width)
        let rows = attention.lanes * max(0, widest - attention.width)
        return added + (bias + rows) * 4
    }

    /// Grows `slot` to hold `steps` positions (its first `position[slot]` kept), and the bias table and score
    /// rows to the widest cache.
    func grow(slot: Int, to steps: Int) {
        cache.grow(slot: slot, to: steps, used: position[slot])
        if steps > positionBias.width {
            positionBias = Self.bias(config: config, table: positionBiasTable, width: steps)
        }
        attention.grow(to: steps)
    }

    /// Slot `targets[i]` continues from what slot `sources[i]` has seen so far (beam search keeps its best beams).
    /// Slots not in `targets` keep their caches (other requests' rows). Targets are distinct; a source may also be
    /// a target. Targets must already hold their sources' positions (`grow`).
    func reorder(targets: [Int], sources: [Int]) {
        let positions = sources.map { position[$0] }
        let moved = targets.indices.filter { targets[$0] != sources[$0] }
        cache.reorder(targets: moved.map { targets[$0] }, sources: moved.map { sources[$0] }, positions: moved.map { positions[$0] })
        for (target, p) in zip(targets, positions) { position[target] = p }
    }

    /// Bytes of the scratch `init` allocates for `capacity` rows (everything but what grows).
    static func scratchBytes(config c: T5Config, capacity: Int, gated: Bool) -> Double {
        let perRow: Int = 2 * c.dModel + 4 * c.innerDim + (gated ? 2 : 1) * c.dFF + c.vocabSize
        return Double(capacity) * Double(perRow) * 4
    }

    /// Bytes of a session of `capacity` rows once every row holds `maxSteps` positions (with a reorder copy of
    /// each when `reorderable`), prompts up to `encoderLength` long; in `Double` so absurd requests cannot overflow.
    static func sessionBytes(config c: T5Config, capacity: Int, maxSteps: Int, encoderLength: Int,
                             gated: Bool, reorderable: Bool, kvCache: KVCacheFormat = .f32) -> Double {
        let b = Double(capacity), t = Double(maxSteps), l = Double(encoderLength)
        let perStep = Double(kvCache.bytesPerStepAndLayer(innerDim: c.innerDim, heads: c.numHeads))
        let caches = Double(c.numDecoderLayers) * perStep * (reorderable ? 2 : 1) * b * t
        let bias = Double(c.numHeads) * t
        let scoreRows = Double(DecodeAttention.lanes(capacity: capacity, heads: c.numHeads)) * max(t, l)
        return caches + scratchBytes(config: c, capacity: capacity, gated: gated) + (bias + scoreRows) * 4
    }

    /// Bytes of a whole request: `batch` rows over `prompts` prompts of up to `encoderLength` tokens, their
    /// cross-attention caches included (`EncodedPrompts.bytes`); the bound `T5Model.requireDecodingMemory` checks.
    static func bytes(config c: T5Config, batch: Int, prompts: Int, maxSteps: Int, encoderLength: Int,
                      gated: Bool, reorderable: Bool, kvCache: KVCacheFormat = .f32, crossKVCache: KVCacheFormat? = nil) -> Double {
        EncodedPrompts.bytes(config: c, prompts: prompts, length: encoderLength, format: crossKVCache ?? kvCache)
            + sessionBytes(config: c, capacity: batch, maxSteps: maxSteps, encoderLength: encoderLength,
                           gated: gated, reorderable: reorderable, kvCache: kvCache)
    }
}
