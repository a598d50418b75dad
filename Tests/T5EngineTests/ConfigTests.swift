// config.json decoding: the family's real configs, defaults, and each invalid case's specific error.
import Foundation
import Testing
@testable import T5Engine

@Suite struct ConfigTests {
    /// google/flan-t5-small's config.json as published (task_specific_params trimmed).
    let flanSmall = """
    {"architectures": ["T5ForConditionalGeneration"], "d_ff": 1024, "d_kv": 64, "d_model": 512,
     "decoder_start_token_id": 0, "dense_act_fn": "gelu_new", "dropout_rate": 0.1, "eos_token_id": 1,
     "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0, "is_encoder_decoder": true,
     "is_gated_act": true, "layer_norm_epsilon": 1e-06, "model_type": "t5", "n_positions": 512,
     "num_decoder_layers": 8, "num_heads": 6, "num_layers": 8, "output_past": true, "pad_token_id": 0,
     "relative_attention_max_distance": 128, "relative_attention_num_buckets": 32,
     "tie_word_embeddings": false, "torch_dtype": "float32", "transformers_version": "4.23.1",
     "use_cache": true, "vocab_size": 32128}
    """

    /// t5-small's config.json: no feed_forward_proj (relu), no tie_word_embeddings (tied).
    let t5Small = """
    {"architectures": ["T5ForConditionalGeneration"], "d_ff": 2048, "d_kv": 64, "d_model": 512,
     "decoder_start_token_id": 0, "dropout_rate": 0.1, "eos_token_id": 1, "initializer_factor": 1.0,
     "is_encoder_decoder": true, "layer_norm_epsilon": 1e-06, "model_type": "t5", "n_positions": 512,
     "num_heads": 8, "num_layers": 6, "output_past": true, "pad_token_id": 0,
     "relative_attention_num_buckets": 32, "vocab_size": 32128}
    """

    @Test func flanT5SmallDecodes() throws {
        let c = try T5Config.decode(Data(flanSmall.utf8))
        #expect(c.dModel == 512 && c.dKV == 64 && c.dFF == 1024 && c.numHeads == 6)
        #expect(c.numLayers == 8 && c.numDecoderLayers == 8 && c.vocabSize == 32128)
        #expect(c.tieWordEmbeddings == false)
        let ff = try c.feedForward()
        #expect(ff.isGated && ff.activation == .geluTanh)
    }

    @Test func originalT5UsesTransformersDefaults() throws {
        let c = try T5Config.decode(Data(t5Small.utf8))
        #expect(c.feedForwardProj == "relu" && c.tieWordEmbeddings == true)
        #expect(c.numDecoderLayers == 6 && c.relativeAttentionMaxDistance == 128)
        let ff = try c.feedForward()
        #expect(!ff.isGated && ff.activation == .relu)
    }

    @Test func mt5ModelTypeAndEosListAccepted() throws {
        var json = try #require(try JSONSerialization.jsonObject(with: Data(flanSmall.utf8)) as? [String: Any])
        json["model_type"] = "mt5"
        json["eos_token_id"] = [1, 2]
        json["vocab_size"] = 250112
        let c = try T5Config.decode(JSONSerialization.data(withJSONObject: json))
        #expect(c.modelType == "mt5" && c.eosTokenId == 1 && c.vocabSize == 250112)
    }

    @Test func feedForwardVariantsParseLikeTransformers() throws {
        func parse(_ s: String) throws -> (Bool, T5Activation) {
            var c = try T5Config.decode(Data(flanSmall.utf8))
            c.feedForwardProj = s
            let r = try c.feedForward()
            return (r.isGated, r.activation)
        }
        #expect(try parse("relu") == (false, .relu))
        #expect(try parse("gelu") == (false, .gelu))
        #expect(try parse("gated-gelu") == (true, .geluTanh))
        #expect(try parse("gated-silu") == (true, .silu))
        #expect(try parse("gelu_new") == (false, .geluTanh))
        for bad in ["tanh", "gated-gelu-x", "double-gelu", "", "gated-"] {
            #expect(throws: ConfigError.unsupported(path: "config.json", field: "feed_forward_proj", value: bad)) {
                _ = try parse(bad)
            }
        }
    }

    /// Each broken config is refused with its own error before any weight is touched.
    @Test func invalidConfigsAreRefused() throws {
        func decode(_ edit: (inout [String: Any]) -> Void) throws -> T5Config {
            var json = try #require(try JSONSerialization.jsonObject(with: Data(flanSmall.utf8)) as? [String: Any])
            edit(&json)
            return try T5Config.decode(JSONSerialization.data(withJSONObject: json))
        }
        #expect(throws: ConfigError.missingField(path: "config.json", field: "d_model")) {
            _ = try decode { $0["d_model"] = nil }
        }
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: "d_model", value: "0", allowed: "1...65536")) {
            _ = try decode { $0["d_model"] = 0 }
        }
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: "num_heads", value: "-4", allowed: "1...1024")) {
            _ = try decode { $0["num_heads"] = -4 }
        }
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: "d_model", value: "1000000000", allowed: "1...65536")) {
            _ = try decode { $0["d_model"] = 1_000_000_000 }
        }
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: "vocab_size", value: "100000000", allowed: "1...1048576")) {
            _ = try decode { $0["vocab_size"] = 100_000_000 }
        }
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: "eos_token_id", value: "40000", allowed: "0...32127")) {
            _ = try decode { $0["eos_token_id"] = 40000 }
        }
        #expect(throws: ConfigError.unsupported(path: "config.json", field: "model_type", value: "bart")) {
            _ = try decode { $0["model_type"] = "bart" }
        }
        #expect(throws: ConfigError.unsupported(path: "config.json", field: "feed_forward_proj", value: "gated-tanh")) {
            _ = try decode { $0["feed_forward_proj"] = "gated-tanh" }
        }
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: "layer_norm_epsilon", value: "-1.0", allowed: "> 0")) {
            _ = try decode { $0["layer_norm_epsilon"] = -1.0 }
        }
        #expect(throws: (any Error).self) { _ = try decode { $0["d_model"] = "512" } }
        #expect(throws: (any Error).self) { _ = try T5Config.decode(Data("not json".utf8)) }
        #expect(throws: (any Error).self) { _ = try T5Config.decode(Data("[1, 2]".utf8)) }
    }

    @Test func missingConfigFileNamesThePath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5-no-config-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ConfigError.missingFile(path: dir.appendingPathComponent("config.json").path)) {
            _ = try T5Config.load(from: dir)
        }
    }
}
