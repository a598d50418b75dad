// The parts of HF's tokenizer.json this engine reads, as Decodable types mapped to the exact keys.
// Stages are tagged by "type"; fields of every variant are optional and checked by the loader.

struct TokenizerJSONFile: Decodable {
    var addedTokens: [AddedTokenJSON]
    var normalizer: NormalizerJSON?
    var preTokenizer: PreTokenizerJSON?
    var model: ModelJSON
    var postProcessor: PostProcessorJSON?
    var decoder: DecoderJSON?

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens"
        case normalizer
        case preTokenizer = "pre_tokenizer"
        case model
        case postProcessor = "post_processor"
        case decoder
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try c.decodeIfPresent([AddedTokenJSON].self, forKey: .addedTokens) ?? []
        normalizer = try c.decodeIfPresent(NormalizerJSON.self, forKey: .normalizer)
        preTokenizer = try c.decodeIfPresent(PreTokenizerJSON.self, forKey: .preTokenizer)
        model = try c.decode(ModelJSON.self, forKey: .model)
        postProcessor = try c.decodeIfPresent(PostProcessorJSON.self, forKey: .postProcessor)
        self.decoder = try c.decodeIfPresent(DecoderJSON.self, forKey: .decoder)
    }
}

struct AddedTokenJSON: Decodable {
    var content: String
    var singleWord: Bool?
    var lstrip: Bool?
    var rstrip: Bool?
    var normalized: Bool?
    var special: Bool?

    enum CodingKeys: String, CodingKey {
        case content
        case singleWord = "single_word"
        case lstrip, rstrip, normalized, special
    }
}

struct NormalizerJSON: Decodable {
    var type: String
    var normalizers: [NormalizerJSON]?
    var precompiledCharsmap: String?
    var stripLeft: Bool?
    var stripRight: Bool?
    var pattern: PatternJSON?
    var content: String?

    enum CodingKeys: String, CodingKey {
        case type, normalizers
        case precompiledCharsmap = "precompiled_charsmap"
        case stripLeft = "strip_left"
        case stripRight = "strip_right"
        case pattern, content
    }
}

/// `Replace` pattern: `{"String": "..."}` or `{"Regex": "..."}`.
struct PatternJSON: Decodable {
    var string: String?
    var regex: String?

    enum CodingKeys: String, CodingKey {
        case string = "String"
        case regex = "Regex"
    }
}

struct PreTokenizerJSON: Decodable {
    var type: String
    var pretokenizers: [PreTokenizerJSON]?
    var replacement: String?
    var prependScheme: String?
    var addPrefixSpace: Bool?
    var split: Bool?

    enum CodingKeys: String, CodingKey {
        case type, pretokenizers, replacement, split
        case prependScheme = "prepend_scheme"
        case addPrefixSpace = "add_prefix_space"
    }
}

struct ModelJSON: Decodable {
    var type: String?
    var unkId: Int?
    var vocab: [VocabEntryJSON]?
    var byteFallback: Bool?

    enum CodingKeys: String, CodingKey {
        case type
        case unkId = "unk_id"
        case vocab
        case byteFallback = "byte_fallback"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        unkId = try c.decodeIfPresent(Int.self, forKey: .unkId)
        byteFallback = try c.decodeIfPresent(Bool.self, forKey: .byteFallback)
        // Only a Unigram vocab is a list of pairs; other models are checked by type first.
        vocab = type == "Unigram" ? try c.decodeIfPresent([VocabEntryJSON].self, forKey: .vocab) : nil
    }
}

/// A Unigram vocab entry: `["▁the", -3.14]`.
struct VocabEntryJSON: Decodable {
    var piece: String
    var score: Double

    init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        piece = try c.decode(String.self)
        score = try c.decode(Double.self)
    }
}

struct PostProcessorJSON: Decodable {
    var type: String
    var single: [TemplatePieceJSON]?
    var specialTokens: [String: SpecialTokenJSON]?

    enum CodingKeys: String, CodingKey {
        case type, single
        case specialTokens = "special_tokens"
    }
}

/// `{"Sequence": {"id": "A"}}` or `{"SpecialToken": {"id": "</s>"}}`.
struct TemplatePieceJSON: Decodable {
    struct Reference: Decodable { var id: String }
    var sequence: Reference?
    var specialToken: Reference?

    enum CodingKeys: String, CodingKey {
        case sequence = "Sequence"
        case specialToken = "SpecialToken"
    }
}

struct SpecialTokenJSON: Decodable {
    var ids: [Int]
}

struct DecoderJSON: Decodable {
    var type: String
    var replacement: String?
    var prependScheme: String?
    var addPrefixSpace: Bool?

    enum CodingKeys: String, CodingKey {
        case type, replacement
        case prependScheme = "prepend_scheme"
        case addPrefixSpace = "add_prefix_space"
    }
}
