// How much a decode step and the encoder read and compute, from the weights as held: the inputs of `t5 bench`'s
// roofline (`Roofline`, PERFORMANCE.md "Roofline in t5 bench").

extension T5Model {
    /// The matrices every decode step multiplies: each decoder block's self-attention, the cross-attention's `q` and `o`
    /// (its keys and values were projected once per prompt), the feed-forward layers, and the head.
    private var decodeStepMatrices: [LinearWeight] {
        var all = [weights.lmHead]
        for b in weights.decoder {
            let a = b.selfAttention, ca = b.crossAttention, f = b.feedForward
            all += [a.q, a.k, a.v, a.o, ca.q, ca.o, f.wi, f.wo] + (f.wiGate.map { [$0] } ?? [])
        }
        return all
    }

    /// The matrices of the encoder stack, plus the decoder's cross-attention keys and values, which are projected from
    /// the encoder output once per prompt (timed with the encoder by `t5 bench`).
    private var encodeMatrices: [LinearWeight] {
        var all: [LinearWeight] = []
        for b in weights.encoder {
            let a = b.selfAttention, f = b.feedForward
            all += [a.q, a.k, a.v, a.o, f.wi, f.wo] + (f.wiGate.map { [$0] } ?? [])
        }
        for b in weights.decoder { all += [b.crossAttention.k, b.crossAttention.v] }
        return all
    }

    /// Weight bytes one decode step reads (as stored: int8 with its scales, half or full width), whatever the batch.
    public var decodeStepWeightBytes: Int { decodeStepMatrices.reduce(0) { $0 + $1.storedBytes } }

    /// Cache bytes one decode step's attention reads for one row at `position` (the token fed): its self-attention
    /// keys and values for positions `0...position` and its prompt's `promptLength` cross-attention keys and values,
    /// in every decoder layer, in the model's cache format. At batch 8 and flan-t5-small sizes this is a sixth of the
    /// weight bytes, so the decode bound counts it (PERFORMANCE.md, "Decode attention on the pool, in C").
    public func decodeStepCacheBytes(position: Int, promptLength: Int) -> Int {
        let perPosition = kvCache.bytesPerStepAndLayer(innerDim: config.innerDim, heads: config.numHeads)
        return config.numDecoderLayers * (position + 1 + promptLength) * perPosition
    }

    /// Floating-point operations of one decode step's linear layers for one row (a multiply-add counts two); attention
    /// over the caches is left out (under 2 % at flan-t5 sizes and 128 steps).
    public var decodeStepFLOPsPerRow: Int { decodeStepMatrices.reduce(0) { $0 + 2 * $1.outFeatures * $1.inFeatures } }

    /// Floating-point operations of the encoder's linear layers (and the cross-attention key/value projections) over
    /// `tokens` prompt positions; attention scores and softmax are left out.
    public func encoderLinearFLOPs(tokens: Int) -> Int {
        encodeMatrices.reduce(0) { $0 + 2 * tokens * $1.outFeatures * $1.inFeatures }
    }
}
