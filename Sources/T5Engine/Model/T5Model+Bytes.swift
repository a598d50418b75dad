// How many bytes the loaded weights take, as stored (int8 values plus their scales, f32 otherwise).

extension T5Model {
    /// Bytes of every weight matrix and vector as the engine holds them; the yardstick for peak memory.
    public var weightBytes: Int {
        let w = weights
        func attention(_ a: AttentionWeights) -> Int {
            a.layerNorm.count * 4 + a.q.storedBytes + a.k.storedBytes + a.v.storedBytes + a.o.storedBytes
        }
        func feedForward(_ f: FeedForwardWeights) -> Int {
            f.layerNorm.count * 4 + f.wi.storedBytes + (f.wiGate?.storedBytes ?? 0) + f.wo.storedBytes
        }
        var total = w.shared.storedBytes + (config.tieWordEmbeddings ? 0 : w.lmHead.storedBytes)
        total += (w.encoderPositionBias.count + w.decoderPositionBias.count + w.encoderFinalNorm.count + w.decoderFinalNorm.count) * 4
        for b in w.encoder { total += attention(b.selfAttention) + feedForward(b.feedForward) }
        for b in w.decoder { total += attention(b.selfAttention) + attention(b.crossAttention) + feedForward(b.feedForward) }
        return total
    }

    /// How the linear layers' matrices are held in memory ("f32", "int8", "bf16", "f16"; several joined by "+"
    /// when a checkpoint mixes them).
    public var linearWeightFormat: String {
        let w = weights
        var all = [w.shared, w.lmHead]
        for b in w.encoder {
            all += [b.selfAttention.q, b.selfAttention.k, b.selfAttention.v, b.selfAttention.o, b.feedForward.wi, b.feedForward.wo]
            if let g = b.feedForward.wiGate { all.append(g) }
        }
        for b in w.decoder {
            for a in [b.selfAttention, b.crossAttention] { all += [a.q, a.k, a.v, a.o] }
            all += [b.feedForward.wi, b.feedForward.wo]
            if let g = b.feedForward.wiGate { all.append(g) }
        }
        var names: [String] = []
        for f in all.map(\.formatName) where !names.contains(f) { names.append(f) }
        return names.joined(separator: "+")
    }
}
