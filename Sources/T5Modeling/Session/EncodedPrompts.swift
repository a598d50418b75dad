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
    /// How the keys and values are stored (the model's `kvCache`).
    public let format: KVCacheFormat
    /// Per decoder layer `[prompts, paddedLength, inner]`, written once by `init`, read-only afterwards.
    let crossK, crossV: [KVStorage]

    public var count: Int { lengths.count }

    /// Runs the encoder over `p`, a group of prompts at a time, and projects its output to every decoder layer's keys
    /// and values. The encoder scratch (sized for one group) lives only as long as this call.
    init(model: T5Model, _ p: PromptBatch) {
        let c = model.config, rows = p.batch * p.length
        self.model = model
        lengths = p.lengths
        paddedLength = p.length
        format = model.kvCache
        let kernels = model.runtime.instructionSet
        let make = { [format] in KVStorage(format: format, positions: rows, inner: c.innerDim, heads: c.numHeads, kernels: kernels) }
        crossK = (0..<c.numDecoderLayers).map { _ in make() }
        crossV = (0..<c.numDecoderLayers).map { _ in make() }
        let encoder = EncoderState(config: c, rows: p.encoderGroupRows, length: p.length, gated: model.isGated)
        for group in p.encoderGroups {
            let first = group.lowerBound * p.length, groupRows = group.count * p.length
            model.runEncoder(p.slice(group), encoder)
            if format == .f32 {
                model.computeCrossAttentionCache(encoderOutput: encoder.x.pointer, rows: groupRows,
                                                 keys: crossK.map { $0.floats!.pointer + first * c.innerDim },
                                                 values: crossV.map { $0.floats!.pointer + first * c.innerDim })
            } else {
                // One layer at a time through f32 scratch (the encoder's work buffer, no longer needed), then narrowed.
                let scratch = encoder.work.pointer
                for (l, block) in model.weights.decoder.enumerated() {
                    for (weight, cache) in [(block.crossAttention.k, crossK[l]), (block.crossAttention.v, crossV[l])] {
                        model.linear(encoder.x.pointer, rows: groupRows, weight, out: c.innerDim, in: c.dModel, into: scratch)
                        for r in 0..<groupRows { cache.rows.store(position: first + r, scratch + r * c.innerDim) }
                    }
                }
            }
        }
    }

    /// `[length, inner]` keys of prompt `prompt` in decoder layer `layer`.
    func keys(layer: Int, prompt: Int) -> KVRows { crossK[layer].rows.from(position: prompt * paddedLength) }

    func values(layer: Int, prompt: Int) -> KVRows { crossV[layer].rows.from(position: prompt * paddedLength) }

    /// Bytes of the caches for `prompts` prompts padded to `length` tokens; in `Double` so absurd requests cannot overflow.
    static func bytes(config c: T5Config, prompts: Int, length: Int, format: KVCacheFormat = .f32) -> Double {
        Double(c.numDecoderLayers) * Double(format.bytesPerStepAndLayer(innerDim: c.innerDim, heads: c.numHeads))
            * Double(prompts) * Double(length)
    }
}

extension T5Model {
    /// Encodes prompts (token ids, usually ending with EOS) for decoding: rows join a `DecodingSession` with the result.
    /// Throws before allocating if a prompt is invalid or the encoder and caches exceed `memoryLimitBytes`.
    public func encodeForDecoding(prompts: [[Int]]) throws -> EncodedPrompts {
        try validate(prompts: prompts)
        let p = PromptBatch(prompts, padId: config.padTokenId)
        let bytes = EncoderState.bytes(config: config, rows: p.encoderGroupRows, length: p.length, gated: isGated)
            + EncodedPrompts.bytes(config: config, prompts: p.batch, length: p.length, format: kvCache)
        try requireMemory(bytes, for: "\(p.batch) prompt(s) of up to \(p.length) tokens")
        return EncodedPrompts(model: self, p)
    }
}
