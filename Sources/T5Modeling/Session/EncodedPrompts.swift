// Prompts after the encoder, reduced to what decoding reads of them: every decoder layer's cross-attention
// keys and values, computed once per prompt.
import T5Tensor

/// What rows join a `DecodingSession` with. Immutable once made, so any number of rows (beams, samples, rows of
/// several sessions on the same model) can read one prompt.
public final class EncodedPrompts: @unchecked Sendable {
    /// The model whose encoder made these; only its sessions can read them.
    public let model: T5Model
    /// Real length of each prompt, in tokens.
    public let lengths: [Int]
    /// Row stride of the caches: the longest prompt.
    let paddedLength: Int
    /// Per decoder layer `[prompts, paddedLength, inner]`, written once by `init`, read-only afterwards.
    let crossK, crossV: [FloatBuffer]

    public var count: Int { lengths.count }

    /// Runs the encoder over `p` and projects its output to every decoder layer's keys and values.
    /// The encoder scratch lives only as long as this call.
    init(model: T5Model, _ p: PromptBatch) {
        let c = model.config
        self.model = model
        lengths = p.lengths
        paddedLength = p.length
        crossK = (0..<c.numDecoderLayers).map { _ in FloatBuffer(count: p.batch * p.length * c.innerDim) }
        crossV = (0..<c.numDecoderLayers).map { _ in FloatBuffer(count: p.batch * p.length * c.innerDim) }
        let encoder = EncoderState(config: c, rows: p.batch * p.length, length: p.length, gated: model.isGated)
        model.runEncoder(p, encoder)
        model.computeCrossAttentionCache(encoderOutput: encoder.x.pointer, rows: p.batch * p.length, keys: crossK, values: crossV)
    }

    /// `[length, inner]` keys of prompt `prompt` in decoder layer `layer`.
    func keys(layer: Int, prompt: Int) -> UnsafePointer<Float> {
        UnsafePointer(crossK[layer].pointer + prompt * paddedLength * model.config.innerDim)
    }

    func values(layer: Int, prompt: Int) -> UnsafePointer<Float> {
        UnsafePointer(crossV[layer].pointer + prompt * paddedLength * model.config.innerDim)
    }

    /// Bytes of the caches for `prompts` prompts padded to `length` tokens; in `Double` so absurd requests cannot overflow.
    static func bytes(config c: T5Config, prompts: Int, length: Int) -> Double {
        Double(c.numDecoderLayers) * Double(2 * c.innerDim) * Double(prompts) * Double(length) * 4
    }
}

extension T5Model {
    /// Encodes prompts (token ids, usually ending with EOS) for decoding: rows join a `DecodingSession` with the result.
    /// Throws before allocating if a prompt is invalid or the encoder and caches exceed `memoryLimitBytes`.
    public func encodeForDecoding(prompts: [[Int]]) throws -> EncodedPrompts {
        try validate(prompts: prompts)
        let p = PromptBatch(prompts, padId: config.padTokenId)
        let bytes = EncoderState.bytes(config: config, rows: p.batch * p.length, length: p.length, gated: isGated)
            + EncodedPrompts.bytes(config: config, prompts: p.batch, length: p.length)
        try requireMemory(bytes, for: "\(p.batch) prompt(s) of up to \(p.length) tokens")
        return EncodedPrompts(model: self, p)
    }
}
