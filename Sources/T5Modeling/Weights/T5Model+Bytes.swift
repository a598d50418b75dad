// How many bytes the loaded weights take, as stored (int8 values plus their scales, f32 otherwise), and in what format.
import T5Kernels

extension T5Model {
    /// Bytes of every weight matrix and vector as the engine holds them; the yardstick for peak memory.
    public var weightBytes: Int {
        let w = weights
        var vectors = w.encoderPositionBias.count + w.decoderPositionBias.count + w.encoderFinalNorm.count + w.decoderFinalNorm.count
        for b in w.encoder { vectors += b.selfAttention.layerNorm.count + b.feedForward.layerNorm.count }
        for b in w.decoder {
            vectors += b.selfAttention.layerNorm.count + b.crossAttention.layerNorm.count + b.feedForward.layerNorm.count
        }
        return linearWeights.reduce(vectors * 4) { $0 + $1.storedBytes }
    }

    /// How the linear layers' matrices are held in memory ("f32", "int8", "bf16", "f16"; several joined by "+"
    /// when a checkpoint mixes them).
    public var linearWeightFormat: String {
        var names: [String] = []
        for f in linearWeights.map(\.formatName) where !names.contains(f) { names.append(f) }
        return names.joined(separator: "+")
    }

    /// The integer kernels this model's int8 products run on its runtime, if any: W8A8 with `int8Activations`, else
    /// 16-bit activations in decode steps with AVX2 or AVX-512 (`IntegerKernels`).
    public var integerKernels: IntegerKernels? {
        IntegerKernels.used(int8Weights: linearWeights.contains { $0.formatName == "int8" }, int8Activations: int8Activations,
                            level: runtime.pool.instructionSet)
    }

    /// Every matrix of the model once: the embedding, the head unless it is the tied embedding, and each block's
    /// projections.
    var linearWeights: [LinearWeight] {
        let w = weights
        var all = [w.shared] + (config.tieWordEmbeddings ? [] : [w.lmHead])
        func attention(_ a: AttentionWeights) { all += [a.q, a.k, a.v, a.o] }
        func feedForward(_ f: FeedForwardWeights) { all += [f.wi, f.wo] + (f.wiGate.map { [$0] } ?? []) }
        for b in w.encoder { attention(b.selfAttention); feedForward(b.feedForward) }
        for b in w.decoder { attention(b.selfAttention); attention(b.crossAttention); feedForward(b.feedForward) }
        return all
    }
}
