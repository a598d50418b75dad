// Hyper-parameters of a T5-family model, read from a Hugging Face `config.json`.
import Foundation
#if canImport(Glibc)
import Glibc
import T5Kernels
#endif

/// What `config.json` says about the architecture. Field names mirror transformers' `T5Config`.
public struct T5Config: Sendable, Equatable, Codable {
    public var modelType: String
    public var vocabSize: Int
    public var dModel: Int
    public var dKV: Int
    public var dFF: Int
    public var numLayers: Int
    public var numDecoderLayers: Int
    public var numHeads: Int
    public var relativeAttentionNumBuckets: Int
    public var relativeAttentionMaxDistance: Int
    public var layerNormEpsilon: Float
    public var feedForwardProj: String
    public var tieWordEmbeddings: Bool
    public var padTokenId: Int
    public var eosTokenId: Int
    public var decoderStartTokenId: Int

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabSize = "vocab_size"
        case dModel = "d_model"
        case dKV = "d_kv"
        case dFF = "d_ff"
        case numLayers = "num_layers"
        case numDecoderLayers = "num_decoder_layers"
        case numHeads = "num_heads"
        case relativeAttentionNumBuckets = "relative_attention_num_buckets"
        case relativeAttentionMaxDistance = "relative_attention_max_distance"
        case layerNormEpsilon = "layer_norm_epsilon"
        case feedForwardProj = "feed_forward_proj"
        case tieWordEmbeddings = "tie_word_embeddings"
        case padTokenId = "pad_token_id"
        case eosTokenId = "eos_token_id"
        case decoderStartTokenId = "decoder_start_token_id"
    }

    /// Largest sizes accepted, so that an absurd config is refused before anything is allocated.
    /// flan-t5-xxl (d_model 4096, d_ff 10240, 24 layers, 64 heads) is well inside them.
    public static let limits = (dimension: 65_536, vocabulary: 1_048_576, layers: 256, heads: 1_024, buckets: 4_096)

    public init(
        modelType: String = "t5", vocabSize: Int, dModel: Int, dKV: Int, dFF: Int,
        numLayers: Int, numDecoderLayers: Int? = nil, numHeads: Int,
        relativeAttentionNumBuckets: Int = 32, relativeAttentionMaxDistance: Int = 128,
        layerNormEpsilon: Float = 1e-6, feedForwardProj: String = "relu",
        tieWordEmbeddings: Bool = true, padTokenId: Int = 0, eosTokenId: Int = 1,
        decoderStartTokenId: Int? = nil
    ) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.dKV = dKV
        self.dFF = dFF
        self.numLayers = numLayers
        self.numDecoderLayers = numDecoderLayers ?? numLayers
        self.numHeads = numHeads
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.layerNormEpsilon = layerNormEpsilon
        self.feedForwardProj = feedForwardProj
        self.tieWordEmbeddings = tieWordEmbeddings
        self.padTokenId = padTokenId
        self.eosTokenId = eosTokenId
        self.decoderStartTokenId = decoderStartTokenId ?? padTokenId
    }

    /// Shape fields are required (every real T5 config has them; their absence means a wrong file);
    /// the rest take transformers' `T5Config` defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "t5"
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        dModel = try c.decode(Int.self, forKey: .dModel)
        dKV = try c.decode(Int.self, forKey: .dKV)
        dFF = try c.decode(Int.self, forKey: .dFF)
        numLayers = try c.decode(Int.self, forKey: .numLayers)
        numDecoderLayers = try c.decodeIfPresent(Int.self, forKey: .numDecoderLayers) ?? numLayers
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        relativeAttentionNumBuckets = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionNumBuckets) ?? 32
        relativeAttentionMaxDistance = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionMaxDistance) ?? 128
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-6
        feedForwardProj = try c.decodeIfPresent(String.self, forKey: .feedForwardProj) ?? "relu"
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? 0
        // Some configs give a list of EOS ids; the first is the one T5 was trained with.
        eosTokenId = c.decodeTokenId(forKey: .eosTokenId) ?? 1
        decoderStartTokenId = try c.decodeIfPresent(Int.self, forKey: .decoderStartTokenId) ?? padTokenId
    }

    /// Reads and validates `config.json` (a file, or a model folder holding one).
    public static func load(from url: URL) throws -> T5Config {
        var isDirectory: ObjCBool = false
        var file = url
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = url.appendingPathComponent("config.json")
        }
        guard FileManager.default.fileExists(atPath: file.path) else {
            // A folder we may not search hides config.json just as a missing file does; say which it is.
            if access(file.path, F_OK) != 0, errno == EACCES {
                throw ConfigError.unreadable(path: file.path, reason: String(cString: strerror(EACCES)))
            }
            throw ConfigError.missingFile(path: file.path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ConfigError.unreadable(path: file.path, reason: error.localizedDescription)
        }
        return try decode(data, path: file.path)
    }

    /// Decodes and validates config JSON; `path` only names the source in errors.
    public static func decode(_ data: Data, path: String = "config.json") throws -> T5Config {
        let config: T5Config
        do {
            config = try JSONDecoder().decode(T5Config.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ConfigError.missingField(path: path, field: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context) {
            throw ConfigError.invalidField(path: path, field: context.codingPath.map(\.stringValue).joined(separator: "."),
                                           reason: context.debugDescription)
        } catch let DecodingError.valueNotFound(_, context) {
            throw ConfigError.invalidField(path: path, field: context.codingPath.map(\.stringValue).joined(separator: "."),
                                           reason: "null")
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            if field.isEmpty { throw ConfigError.notJSON(path: path, reason: context.debugDescription) }
            throw ConfigError.invalidField(path: path, field: field, reason: context.debugDescription)
        } catch {
            throw ConfigError.notJSON(path: path, reason: "\(error)")
        }
        try config.validate(path: path)
        return config
    }

    /// Checks every size before anything is allocated from it.
    public func validate(path: String = "config.json") throws {
        guard ["t5", "mt5"].contains(modelType) else {
            throw ConfigError.unsupported(path: path, field: "model_type", value: modelType)
        }
        func check(_ value: Int, _ field: String, max: Int, min: Int = 1) throws {
            guard value >= min, value <= max else {
                throw ConfigError.outOfRange(path: path, field: field, value: "\(value)", allowed: "\(min)...\(max)")
            }
        }
        let l = T5Config.limits
        try check(vocabSize, "vocab_size", max: l.vocabulary)
        try check(dModel, "d_model", max: l.dimension)
        try check(dKV, "d_kv", max: l.dimension)
        try check(dFF, "d_ff", max: l.dimension * 4)
        try check(numLayers, "num_layers", max: l.layers)
        try check(numDecoderLayers, "num_decoder_layers", max: l.layers)
        try check(numHeads, "num_heads", max: l.heads)
        try check(numHeads * dKV, "num_heads * d_kv", max: l.dimension * 4)
        // At least 4, so the encoder's half of the buckets still has an exact bucket (max_exact >= 1).
        try check(relativeAttentionNumBuckets, "relative_attention_num_buckets", max: l.buckets, min: 4)
        try check(relativeAttentionMaxDistance, "relative_attention_max_distance", max: 1 << 20, min: 1)
        try check(padTokenId, "pad_token_id", max: vocabSize - 1, min: 0)
        try check(eosTokenId, "eos_token_id", max: vocabSize - 1, min: 0)
        try check(decoderStartTokenId, "decoder_start_token_id", max: vocabSize - 1, min: 0)
        guard layerNormEpsilon.isFinite, layerNormEpsilon > 0 else {
            throw ConfigError.outOfRange(path: path, field: "layer_norm_epsilon", value: "\(layerNormEpsilon)", allowed: "> 0")
        }
        // max_exact is buckets/4 in the encoder and buckets/2 in the decoder; max_distance must exceed both, or the
        // log-bucket formula divides by zero (NaN, a trap converting to Int) or goes negative (a read before the table).
        guard relativeAttentionMaxDistance > relativeAttentionNumBuckets / 2 else {
            throw ConfigError.outOfRange(path: path, field: "relative_attention_max_distance",
                                         value: "\(relativeAttentionMaxDistance)",
                                         allowed: "> relative_attention_num_buckets / 2")
        }
        _ = try feedForward(path: path)
    }

    /// `(isGated, activation)` parsed the way transformers' `T5Config` does.
    public func feedForward(path: String = "config.json") throws -> (isGated: Bool, activation: T5Activation) {
        let parts = feedForwardProj.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let isGated = parts.count == 2 && parts[0] == "gated"
        guard parts.count == 1 || isGated else {
            throw ConfigError.unsupported(path: path, field: "feed_forward_proj", value: feedForwardProj)
        }
        // transformers special-cases "gated-gelu" to the tanh approximation (gelu_new).
        if feedForwardProj == "gated-gelu" { return (true, .geluTanh) }
        switch parts[parts.count - 1] {
        case "relu": return (isGated, .relu)
        case "gelu": return (isGated, .gelu)
        case "gelu_new", "gelu_pytorch_tanh": return (isGated, .geluTanh)
        case "silu", "swish": return (isGated, .silu)
        default: throw ConfigError.unsupported(path: path, field: "feed_forward_proj", value: feedForwardProj)
        }
    }

    /// Width of the attention projections (`num_heads * d_kv`); need not equal `d_model`.
    public var innerDim: Int { numHeads * dKV }
}

extension KeyedDecodingContainer {
    /// A token id given either as one integer or as a list (`"eos_token_id": [1]`); the list's first entry.
    /// nil when absent or of another type.
    package func decodeTokenId(forKey key: Key) -> Int? {
        if let single = try? decodeIfPresent(Int.self, forKey: key) { return single }
        return (try? decodeIfPresent([Int].self, forKey: key))?.first
    }
}
