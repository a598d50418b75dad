// Every weight of a T5 model, looked up by its Hugging Face name and checked against the config's shapes.
import Foundation
import T5Tensor
import T5SafeTensors

/// `T5LayerSelfAttention` / `T5LayerCrossAttention`: q, k, v `[inner, d_model]`, o `[d_model, inner]`.
struct AttentionWeights: Sendable {
    let layerNorm: FloatTensor  // [d_model]
    let q: LinearWeight
    let k: LinearWeight
    let v: LinearWeight
    let o: LinearWeight
}

/// `T5LayerFF`: `wi` (or the gated pair `wi_0`, `wi_1`) `[d_ff, d_model]`, `wo` `[d_model, d_ff]`.
struct FeedForwardWeights: Sendable {
    let layerNorm: FloatTensor  // [d_model]
    let wi: LinearWeight        // `wi`, or `wi_0` (the activated half) when gated
    let wiGate: LinearWeight?   // `wi_1`, the linear half, when gated
    let wo: LinearWeight
}

struct EncoderBlockWeights: Sendable {
    let selfAttention: AttentionWeights
    let feedForward: FeedForwardWeights
}

struct DecoderBlockWeights: Sendable {
    let selfAttention: AttentionWeights
    let crossAttention: AttentionWeights
    let feedForward: FeedForwardWeights
}

/// The whole checkpoint, shapes validated at load.
struct T5Weights: Sendable {
    let shared: LinearWeight                // [vocab, d_model] token embedding of both stacks
    let encoderPositionBias: FloatTensor    // [num_buckets, num_heads], encoder block 0
    let decoderPositionBias: FloatTensor    // [num_buckets, num_heads], decoder block 0
    let encoder: [EncoderBlockWeights]
    let encoderFinalNorm: FloatTensor       // [d_model]
    let decoder: [DecoderBlockWeights]
    let decoderFinalNorm: FloatTensor       // [d_model]
    let lmHead: LinearWeight                // [vocab, d_model]; `shared` when embeddings are tied

    /// `adapters` are merged into the layers they target (those layers are then held as f32, whatever the
    /// checkpoint stores: widened or dequantized, then merged).
    /// `int8Activations`: int8 weights multiply int8-quantised activations (W8A8); layers merged with an adapter are f32.
    init(store: WeightStore, config c: T5Config, adapters: [LoRAAdapter] = [], int8Activations: Bool = false) throws {
        let d = c.dModel, inner = c.innerDim
        let (isGated, _) = try c.feedForward()
        let lora = try LoRAMerge(adapters: adapters, config: c)

        // Norm weights and bias tables are small: checking them for NaN/Inf costs nothing and catches most
        // corrupt files; the big matrices are not scanned (a NaN there surfaces as a nonFiniteLogits error).
        func checked(_ name: String, _ shape: [Int]) throws -> FloatTensor {
            let t = try store.floatTensor(name, shape: shape)
            if let bad = t.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
                throw WeightsError.nonFiniteValues(name: name, index: bad, directory: store.directory.path)
            }
            return t
        }
        func vector(_ name: String, _ n: Int) throws -> FloatTensor { try checked(name, [n]) }
        /// `multiplies`: false for a matrix only looked up by row (an untied embedding), which needs no W8A8 row sums.
        func linear(_ name: String, out: Int, in inFeatures: Int, multiplies: Bool = true) throws -> LinearWeight {
            guard let factors = lora.factors[name] else {
                return try LinearWeight.load(store, name, out: out, in: inFeatures, int8Activations: int8Activations && multiplies)
            }
            return try LinearWeight.load(store, name, out: out, in: inFeatures).merged(factors)
        }
        func attention(_ prefix: String, normName: String) throws -> AttentionWeights {
            AttentionWeights(
                layerNorm: try vector(normName, d),
                q: try linear("\(prefix).q.weight", out: inner, in: d),
                k: try linear("\(prefix).k.weight", out: inner, in: d),
                v: try linear("\(prefix).v.weight", out: inner, in: d),
                o: try linear("\(prefix).o.weight", out: d, in: inner))
        }
        func feedForward(_ prefix: String) throws -> FeedForwardWeights {
            let ff = "\(prefix).DenseReluDense"
            return FeedForwardWeights(
                layerNorm: try vector("\(prefix).layer_norm.weight", d),
                wi: try linear(isGated ? "\(ff).wi_0.weight" : "\(ff).wi.weight", out: c.dFF, in: d),
                wiGate: isGated ? try linear("\(ff).wi_1.weight", out: c.dFF, in: d) : nil,
                wo: try linear("\(ff).wo.weight", out: d, in: c.dFF))
        }

        // Tied saves hold only `shared.weight`; some exports keep only the per-stack copies.
        let embeddingName = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
            .first(where: store.contains) ?? "shared.weight"
        shared = try linear(embeddingName, out: c.vocabSize, in: d, multiplies: c.tieWordEmbeddings)
        let biasShape = [c.relativeAttentionNumBuckets, c.numHeads]
        encoderPositionBias = try checked("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", biasShape)
        decoderPositionBias = try checked("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", biasShape)

        encoder = try (0..<c.numLayers).map { i in
            let p = "encoder.block.\(i).layer"
            let a = try attention("\(p).0.SelfAttention", normName: "\(p).0.layer_norm.weight")
            let f = try feedForward("\(p).1")
            return EncoderBlockWeights(selfAttention: a, feedForward: f)
        }
        encoderFinalNorm = try vector("encoder.final_layer_norm.weight", d)
        decoder = try (0..<c.numDecoderLayers).map { i in
            let p = "decoder.block.\(i).layer"
            return DecoderBlockWeights(
                selfAttention: try attention("\(p).0.SelfAttention", normName: "\(p).0.layer_norm.weight"),
                crossAttention: try attention("\(p).1.EncDecAttention", normName: "\(p).1.layer_norm.weight"),
                feedForward: try feedForward("\(p).2"))
        }
        decoderFinalNorm = try vector("decoder.final_layer_norm.weight", d)
        if c.tieWordEmbeddings {
            lmHead = shared
        } else {
            lmHead = try linear("lm_head.weight", out: c.vocabSize, in: d)
        }
    }

    /// Module path -> [out, in] of every linear layer (the names LoRA adapters target); `lm_head` included even
    /// when tied, so that an adapter targeting it can be refused by name.
    static func linearShapes(_ c: T5Config, gated: Bool) -> [String: (out: Int, in: Int)] {
        let d = c.dModel, inner = c.innerDim
        var shapes: [String: (out: Int, in: Int)] = ["lm_head": (c.vocabSize, d)]
        func attention(_ prefix: String) {
            for m in ["q", "k", "v"] { shapes["\(prefix).\(m)"] = (inner, d) }
            shapes["\(prefix).o"] = (d, inner)
        }
        func feedForward(_ prefix: String) {
            for m in gated ? ["wi_0", "wi_1"] : ["wi"] { shapes["\(prefix).DenseReluDense.\(m)"] = (c.dFF, d) }
            shapes["\(prefix).DenseReluDense.wo"] = (d, c.dFF)
        }
        for i in 0..<c.numLayers {
            attention("encoder.block.\(i).layer.0.SelfAttention")
            feedForward("encoder.block.\(i).layer.1")
        }
        for i in 0..<c.numDecoderLayers {
            attention("decoder.block.\(i).layer.0.SelfAttention")
            attention("decoder.block.\(i).layer.1.EncDecAttention")
            feedForward("decoder.block.\(i).layer.2")
        }
        return shapes
    }
}
