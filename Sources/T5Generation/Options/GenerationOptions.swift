// Every knob of decoding, shared by the CLI and the library; defaults follow transformers' GenerationConfig.
import Foundation
import T5Modeling

/// When beam search may stop (transformers' `early_stopping`).
public enum EarlyStopping: String, Sendable, Equatable, Codable {
    /// `False`: stop when the best running beam can no longer beat the worst finished one (a length-based heuristic).
    case heuristic
    /// `True`: stop as soon as `numBeams` hypotheses are finished.
    case always
    /// `"never"`: the canonical beam search; only stop when no improvement is possible.
    case never
}

public struct GenerationOptions: Sendable, Equatable {
    /// Most tokens to generate (EOS included; a forced `prefix` counts, as it is part of the output).
    public var maxNewTokens: Int = 64
    /// EOS is forbidden until this many tokens are generated (a forced `prefix` counts).
    public var minNewTokens: Int = 0
    /// 1 = greedy or sampling; more = beam search.
    public var numBeams: Int = 1
    /// Beam scores are divided by `length ** lengthPenalty`; > 0 favours longer outputs.
    public var lengthPenalty: Double = 1.0
    public var earlyStopping: EarlyStopping = .heuristic
    /// Finished hypotheses returned per prompt (at most `numBeams` for beam search, any number when sampling).
    public var numReturnSequences: Int = 1
    /// Sample instead of taking the most likely token.
    public var doSample: Bool = false
    public var temperature: Float = 1.0
    /// Keep only the `topK` most likely tokens when sampling; 0 disables.
    public var topK: Int = 50
    /// Keep the smallest set of tokens whose probability reaches `topP` when sampling; 1 disables.
    public var topP: Float = 1.0
    /// Seed of the sampler; the same seed, prompt and options give the same output.
    public var seed: UInt64 = 0
    /// > 1 discourages tokens already in the output (transformers' CTRL-style penalty).
    public var repetitionPenalty: Float = 1.0
    /// Forbid any n-gram of this size from occurring twice in the output; 0 disables.
    public var noRepeatNgramSize: Int = 0
    /// Stop as soon as the decoded text contains one of these (needs a tokenizer; see `T5Generator`).
    public var stopStrings: [String] = []
    /// Overrides the model's EOS token id.
    public var eosTokenId: Int? = nil

    // Control over what may be generated (transformers' processors of the same names).

    /// Tokens never generated (`suppress_tokens`).
    public var suppressTokens: [Int] = []
    /// Tokens an output may not start with (`begin_suppress_tokens`).
    public var beginSuppressTokens: [Int] = []
    /// Token sequences never generated (`bad_words_ids`): a sequence's last token is banned wherever the output
    /// ends with the rest of it; a one-token sequence is banned everywhere. A lone EOS is ignored, as transformers does.
    public var badWordsIds: [[Int]] = []
    /// Biases added to scores (`sequence_bias`); a one-token entry is a plain logit bias.
    public var sequenceBias: [SequenceBias] = []
    /// End every output with EOS at the last step `maxNewTokens` allows (`forced_eos_token_id` = EOS).
    public var forcedEOS = false
    /// Per step, the tokens each row may choose (`prefix_allowed_tokens_fn`).
    public var prefixAllowedTokens: PrefixAllowedTokens? = nil
    /// Tokens every output starts with (CTranslate2's `target_prefix`; transformers: `decoder_input_ids` = decoder
    /// start + prefix). They are forced, not chosen, and are part of the returned tokens; generation continues
    /// them. At most `maxNewTokens`. Beam search's length penalty and `beginSuppressTokens` count from after it,
    /// as transformers does.
    public var prefix: [Int] = []

    // Output detail.

    /// Return each generated token's log-probability with the `logprobs` most likely tokens of its step
    /// (0: the chosen token's only); nil: none (`GeneratedSequence.logprobs` stays nil). Between 0 and the
    /// vocabulary size. Forced `prefix` tokens get no entry.
    public var logprobs: Int? = nil

    /// Longest prompt accepted, in tokens (EOS included); nil: no limit but the memory limit. T5's relative
    /// positions have no hard length limit, but quality past the trained length (512 for Flan-T5) is not assured.
    public var maxPromptTokens: Int? = nil
    /// What happens to a prompt over `maxPromptTokens` (`limitPrompt`).
    public var truncation: PromptTruncation = .error

    public init() {}

    /// Sampling temperature of self-consistency's reasoning paths (Wang et al. 2022, "Self-Consistency Improves Chain
    /// of Thought Reasoning in Language Models": T = 0.7 with top-k 40). The CLI and `T5Generator.reason` share it.
    public static let selfConsistencyTemperature: Float = 0.7
    /// Top-k of self-consistency's reasoning paths (Wang et al. 2022).
    public static let selfConsistencyTopK = 40

    /// These options with self-consistency's sampling defaults: temperature 0.7 and top-k 40 (Wang et al. 2022).
    /// Everything else, sampling and the number of paths included, is left to the caller (`reason` sets those).
    public func withSelfConsistencyDefaults() -> GenerationOptions {
        var o = self
        o.temperature = Self.selfConsistencyTemperature
        o.topK = Self.selfConsistencyTopK
        return o
    }

    /// Largest `maxNewTokens` accepted; far beyond anything T5 was trained for, small enough to size caches.
    public static let maxNewTokensLimit = 1 << 20

    /// Checks every option and names the first bad one.
    public func validate() throws {
        func bad(_ name: String, _ value: Any, _ reason: String) -> GenerationError {
            .invalidOption(name: name, value: "\(value)", reason: reason)
        }
        guard maxNewTokens >= 0 else { throw bad("maxNewTokens", maxNewTokens, "must be >= 0") }
        guard maxNewTokens <= Self.maxNewTokensLimit else { throw bad("maxNewTokens", maxNewTokens, "must be <= \(Self.maxNewTokensLimit)") }
        guard minNewTokens >= 0, minNewTokens <= maxNewTokens else {
            throw bad("minNewTokens", minNewTokens, "must be between 0 and maxNewTokens (\(maxNewTokens))")
        }
        guard numBeams >= 1, numBeams <= 256 else { throw bad("numBeams", numBeams, "must be between 1 and 256") }
        guard lengthPenalty.isFinite else { throw bad("lengthPenalty", lengthPenalty, "must be a finite number") }
        // Capped: it multiplies the batch (an unchecked product would overflow) and sizes the result arrays.
        guard numReturnSequences >= 1, numReturnSequences <= 1024 else {
            throw bad("numReturnSequences", numReturnSequences, "must be between 1 and 1024")
        }
        if numBeams > 1 {
            guard numReturnSequences <= numBeams else {
                throw bad("numReturnSequences", numReturnSequences, "must be <= numBeams (\(numBeams))")
            }
            guard !doSample else { throw bad("doSample", doSample, "beam sampling is not supported; use numBeams 1 to sample") }
        } else if !doSample {
            guard numReturnSequences == 1 else {
                throw bad("numReturnSequences", numReturnSequences, "greedy search returns one sequence; sample or use beams")
            }
        }
        guard temperature.isFinite, temperature > 0 else { throw bad("temperature", temperature, "must be > 0") }
        guard topK >= 0 else { throw bad("topK", topK, "must be >= 0 (0 disables it)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("topP", topP, "must be in (0, 1]") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw bad("repetitionPenalty", repetitionPenalty, "must be > 0 (1 disables it)")
        }
        guard noRepeatNgramSize >= 0 else { throw bad("noRepeatNgramSize", noRepeatNgramSize, "must be >= 0") }
        guard !stopStrings.contains("") else { throw bad("stopStrings", stopStrings, "must not contain an empty string") }
        if let m = maxPromptTokens, m < 1 { throw bad("maxPromptTokens", m, "must be >= 1") }
        if let e = eosTokenId, e < 0 { throw bad("eosTokenId", e, "token ids must be >= 0") }
        if let t = prefix.first(where: { $0 < 0 }) { throw bad("prefix", t, "token ids must be >= 0") }
        guard prefix.count <= maxNewTokens else {
            throw bad("prefix", "\(prefix.count) tokens", "longer than maxNewTokens (\(maxNewTokens)), which counts the prefix")
        }
        if let k = logprobs, k < 0 { throw bad("logprobs", k, "must be >= 0 (0: the chosen token's log-probability only)") }
        if let t = suppressTokens.first(where: { $0 < 0 }) { throw bad("suppressTokens", t, "token ids must be >= 0") }
        if let t = beginSuppressTokens.first(where: { $0 < 0 }) { throw bad("beginSuppressTokens", t, "token ids must be >= 0") }
        for words in badWordsIds {
            guard !words.isEmpty else { throw bad("badWordsIds", "[]", "a banned sequence needs at least one token") }
            if let t = words.first(where: { $0 < 0 }) { throw bad("badWordsIds", t, "token ids must be >= 0") }
        }
        for b in sequenceBias {
            guard !b.tokens.isEmpty else { throw bad("sequenceBias", "[]", "a biased sequence needs at least one token") }
            if let t = b.tokens.first(where: { $0 < 0 }) { throw bad("sequenceBias", t, "token ids must be >= 0") }
            guard !b.bias.isNaN, b.bias != .infinity else {
                throw bad("sequenceBias", "\(b.tokens.map(String.init).joined(separator: " ")):\(b.bias)", "a bias must be a number (or -inf to ban)")
            }
        }
    }

    /// `validate()`, and every token id the options name must be inside a vocabulary of `vocabularySize` ids.
    public func validate(vocabularySize: Int) throws {
        try validate()
        func check(_ name: String, _ ids: [Int]) throws {
            if let t = ids.first(where: { $0 >= vocabularySize }) {
                throw GenerationError.invalidOption(name: name, value: "\(t)", reason: "outside the vocabulary 0..<\(vocabularySize)")
            }
        }
        try check("suppressTokens", suppressTokens)
        try check("beginSuppressTokens", beginSuppressTokens)
        try check("badWordsIds", badWordsIds.flatMap { $0 })
        try check("sequenceBias", sequenceBias.flatMap(\.tokens))
        if let eos = eosTokenId { try check("eosTokenId", [eos]) }
        try check("prefix", prefix)
        if let k = logprobs, k > vocabularySize {
            throw GenerationError.invalidOption(name: "logprobs", value: "\(k)", reason: "must be <= the vocabulary size \(vocabularySize)")
        }
    }
}

/// The parts of a Hugging Face `generation_config.json` that map onto `GenerationOptions`.
public struct GenerationConfigFile: Sendable, Equatable, Decodable {
    public var maxNewTokens: Int?
    public var maxLength: Int?
    public var minNewTokens: Int?
    public var minLength: Int?
    public var numBeams: Int?
    public var lengthPenalty: Double?
    public var earlyStopping: EarlyStopping?
    public var numReturnSequences: Int?
    public var doSample: Bool?
    public var temperature: Float?
    public var topK: Int?
    public var topP: Float?
    public var repetitionPenalty: Float?
    public var noRepeatNgramSize: Int?
    public var eosTokenId: Int?
    public var suppressTokens: [Int]?
    public var beginSuppressTokens: [Int]?
    public var badWordsIds: [[Int]]?
    public var forcedEOSTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case maxNewTokens = "max_new_tokens", maxLength = "max_length", minNewTokens = "min_new_tokens"
        case minLength = "min_length", numBeams = "num_beams", lengthPenalty = "length_penalty"
        case earlyStopping = "early_stopping", numReturnSequences = "num_return_sequences", doSample = "do_sample"
        case temperature, topK = "top_k", topP = "top_p", repetitionPenalty = "repetition_penalty"
        case noRepeatNgramSize = "no_repeat_ngram_size", eosTokenId = "eos_token_id"
        case suppressTokens = "suppress_tokens", beginSuppressTokens = "begin_suppress_tokens"
        case badWordsIds = "bad_words_ids", forcedEOSTokenId = "forced_eos_token_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxNewTokens = try c.decodeIfPresent(Int.self, forKey: .maxNewTokens)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        minNewTokens = try c.decodeIfPresent(Int.self, forKey: .minNewTokens)
        minLength = try c.decodeIfPresent(Int.self, forKey: .minLength)
        numBeams = try c.decodeIfPresent(Int.self, forKey: .numBeams)
        lengthPenalty = try c.decodeIfPresent(Double.self, forKey: .lengthPenalty)
        // `early_stopping` is true, false or "never".
        if let flag = try? c.decodeIfPresent(Bool.self, forKey: .earlyStopping) {
            earlyStopping = flag ? .always : .heuristic
        } else if let text = try? c.decodeIfPresent(String.self, forKey: .earlyStopping) {
            guard text == "never" else {
                throw GenerationError.invalidOption(name: "early_stopping", value: text, reason: "must be true, false or \"never\"")
            }
            earlyStopping = .never
        }
        numReturnSequences = try c.decodeIfPresent(Int.self, forKey: .numReturnSequences)
        doSample = try c.decodeIfPresent(Bool.self, forKey: .doSample)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature)
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        topP = try c.decodeIfPresent(Float.self, forKey: .topP)
        repetitionPenalty = try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty)
        noRepeatNgramSize = try c.decodeIfPresent(Int.self, forKey: .noRepeatNgramSize)
        eosTokenId = c.decodeTokenId(forKey: .eosTokenId)
        suppressTokens = try c.decodeIfPresent([Int].self, forKey: .suppressTokens)
        beginSuppressTokens = try c.decodeIfPresent([Int].self, forKey: .beginSuppressTokens)
        badWordsIds = try c.decodeIfPresent([[Int]].self, forKey: .badWordsIds)
        forcedEOSTokenId = c.decodeTokenId(forKey: .forcedEOSTokenId)
    }

    /// Reads `generation_config.json` from a model folder; nil when the folder has none.
    public static func load(directory: URL) throws -> GenerationConfigFile? {
        let url = directory.appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(GenerationConfigFile.self, from: Data(contentsOf: url))
        } catch let error as GenerationError {
            throw error
        } catch {
            throw ConfigError.notJSON(path: url.path, reason: "\(error)")
        }
    }

    /// Options with this file's values as defaults. `max_length` counts the decoder start token, as in transformers.
    /// Clamped before subtracting: `max_length` is untrusted, and Int.min - 1 would trap.
    public func apply(to base: GenerationOptions = GenerationOptions()) -> GenerationOptions {
        var o = base
        if let maxNewTokens { o.maxNewTokens = maxNewTokens } else if let maxLength { o.maxNewTokens = max(maxLength, 1) - 1 }
        if let minNewTokens { o.minNewTokens = minNewTokens } else if let minLength { o.minNewTokens = max(minLength, 1) - 1 }
        if let numBeams { o.numBeams = numBeams }
        if let lengthPenalty { o.lengthPenalty = lengthPenalty }
        if let earlyStopping { o.earlyStopping = earlyStopping }
        if let numReturnSequences { o.numReturnSequences = numReturnSequences }
        if let doSample { o.doSample = doSample }
        if let temperature { o.temperature = temperature }
        if let topK { o.topK = topK }
        if let topP { o.topP = topP }
        if let repetitionPenalty { o.repetitionPenalty = repetitionPenalty }
        if let noRepeatNgramSize { o.noRepeatNgramSize = noRepeatNgramSize }
        if let eosTokenId { o.eosTokenId = eosTokenId }
        if let suppressTokens { o.suppressTokens = suppressTokens }
        if let beginSuppressTokens { o.beginSuppressTokens = beginSuppressTokens }
        if let badWordsIds { o.badWordsIds = badWordsIds }
        // Forced EOS ends outputs with the EOS the options use; a different forced token is not an EOS.
        if let forcedEOSTokenId, forcedEOSTokenId == (o.eosTokenId ?? forcedEOSTokenId) { o.forcedEOS = true }
        return o
    }
}
