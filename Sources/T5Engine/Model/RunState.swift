// Every activation buffer and cache of one request, allocated once before the first token.

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
    let q, k, v: FloatBuffer // [rows, inner]
    let ctx: FloatBuffer     // [rows, inner] attention output before `o`
    let scores: FloatBuffer  // [length, length] one head of one row at a time
    let ff: FloatBuffer      // [rows, d_ff]
    let gate: FloatBuffer?   // [rows, d_ff] linear half of a gated feed-forward

    init(config c: T5Config, rows: Int, length: Int, gated: Bool) {
        x = FloatBuffer(count: rows * c.dModel)
        h = FloatBuffer(count: rows * c.dModel)
        q = FloatBuffer(count: rows * c.innerDim)
        k = FloatBuffer(count: rows * c.innerDim)
        v = FloatBuffer(count: rows * c.innerDim)
        ctx = FloatBuffer(count: rows * c.innerDim)
        scores = FloatBuffer(count: length * length)
        ff = FloatBuffer(count: rows * c.dFF)
        gate = gated ? FloatBuffer(count: rows * c.dFF) : nil
    }

    /// Bytes `init` would allocate, so an oversized request is refused before allocation.
    /// In `Double` so that absurd requests cannot overflow the estimate.
    static func bytes(config c: T5Config, rows: Int, length: Int, gated: Bool) -> Double {
        let perRow = Double(2 * c.dModel + 4 * c.innerDim + (gated ? 2 : 1) * c.dFF)
        return (Double(rows) * perRow + Double(length) * Double(length)) * 4
    }
}

/// Decoder caches and scratch for `batch` rows decoding up to `maxSteps` tokens.
/// Several decoder rows may read one encoder row (beams, samples of one prompt): `encoderRow[b]` says which.
final class DecoderState {
    let batch: Int
    let maxSteps: Int
    let encoderLength: Int
    /// Per decoder row: the prompt (encoder row) it attends to, and that prompt's real length.
    let encoderRow: [Int]
    let encoderLengths: [Int]
    /// Per decoder layer `[encoderRows, encoderLength, inner]`: cross-attention keys/values, computed once per prompt.
    let crossK, crossV: [FloatBuffer]
    /// Per decoder layer `[batch, maxSteps, inner]`: self-attention keys/values of the tokens so far.
    var selfK, selfV: [FloatBuffer]
    /// Same shape; the target of `reorder`, then swapped in (beam search), allocated on first use.
    var spareK: [FloatBuffer] = [], spareV: [FloatBuffer] = []
    let x, h: FloatBuffer        // [batch, d_model]
    let q, k, v, ctx: FloatBuffer // [batch, inner]
    let scores: FloatBuffer      // [max(maxSteps, encoderLength)] one head of one row at a time
    let ff: FloatBuffer          // [batch, d_ff]
    let gate: FloatBuffer?       // [batch, d_ff]
    let logits: FloatBuffer      // [batch, vocab]
    /// Decoder self-attention bias by head and key offset `-(maxSteps-1)...0`.
    let positionBias: PositionBiasTable
    /// Tokens fed so far; the next token is at this position.
    var step = 0

    init(config c: T5Config, maxSteps: Int, encoderRow: [Int], promptLengths: [Int], encoderLength: Int,
         gated: Bool, positionBiasTable: UnsafePointer<Float>) {
        let batch = encoderRow.count
        self.batch = batch
        self.maxSteps = maxSteps
        self.encoderLength = encoderLength
        self.encoderRow = encoderRow
        encoderLengths = encoderRow.map { promptLengths[$0] }
        let layers = c.numDecoderLayers, prompts = promptLengths.count
        crossK = (0..<layers).map { _ in FloatBuffer(count: prompts * encoderLength * c.innerDim) }
        crossV = (0..<layers).map { _ in FloatBuffer(count: prompts * encoderLength * c.innerDim) }
        selfK = (0..<layers).map { _ in FloatBuffer(count: batch * maxSteps * c.innerDim) }
        selfV = (0..<layers).map { _ in FloatBuffer(count: batch * maxSteps * c.innerDim) }
        x = FloatBuffer(count: batch * c.dModel)
        h = FloatBuffer(count: batch * c.dModel)
        q = FloatBuffer(count: batch * c.innerDim)
        k = FloatBuffer(count: batch * c.innerDim)
        v = FloatBuffer(count: batch * c.innerDim)
        ctx = FloatBuffer(count: batch * c.innerDim)
        scores = FloatBuffer(count: max(maxSteps, encoderLength))
        ff = FloatBuffer(count: batch * c.dFF)
        gate = gated ? FloatBuffer(count: batch * c.dFF) : nil
        logits = FloatBuffer(count: batch * c.vocabSize)
        positionBias = PositionBiasTable(
            table: positionBiasTable, heads: c.numHeads, numBuckets: c.relativeAttentionNumBuckets,
            maxDistance: c.relativeAttentionMaxDistance, bidirectional: false, offsets: -(maxSteps - 1)...0)
    }

    /// Row `i` of the self-attention cache becomes old row `sources[i]` (beam search keeps its best beams).
    func reorder(_ sources: [Int], innerDim inner: Int) {
        if spareK.isEmpty {
            spareK = selfK.map { FloatBuffer(count: $0.count) }
            spareV = selfV.map { FloatBuffer(count: $0.count) }
        }
        let rowFloats = maxSteps * inner, used = step * inner
        for l in 0..<selfK.count {
            for (i, source) in sources.enumerated() {
                (spareK[l].pointer + i * rowFloats).update(from: selfK[l].pointer + source * rowFloats, count: used)
                (spareV[l].pointer + i * rowFloats).update(from: selfV[l].pointer + source * rowFloats, count: used)
            }
        }
        swap(&selfK, &spareK)
        swap(&selfV, &spareV)
    }

    /// Bytes `init` (and one `reorder`, when `reorderable`) would allocate; in `Double` so absurd requests cannot overflow.
    static func bytes(config c: T5Config, batch: Int, prompts: Int, maxSteps: Int, encoderLength: Int,
                      gated: Bool, reorderable: Bool) -> Double {
        let b = Double(batch), t = Double(maxSteps), l = Double(encoderLength)
        let perLayer = Double(2 * c.innerDim) * (Double(prompts) * l + (reorderable ? 2 : 1) * b * t)
        let scratch = b * Double(2 * c.dModel + 4 * c.innerDim + (gated ? 2 : 1) * c.dFF + c.vocabSize)
        let bias = Double(c.numHeads) * t
        return (Double(c.numDecoderLayers) * perLayer + scratch + bias + max(t, l)) * 4
    }
}
