// The decoding fields completions and chat share (OpenAI's and the T5 extensions), read strictly, and their
// mapping onto the engine's GenerationOptions.
import T5Engine

/// Chain-of-thought prompting asked for with the `cot` extension.
public enum CoTRequest: String, Sendable, Equatable {
    case zeroShot = "zero-shot"
    case fewShot = "few-shot"
}

public struct DecodingRequest: Sendable, Equatable {
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var n: Int = 1
    public var stop: [String] = []
    public var seed: Int?
    public var stream = false
    /// `stream_options.include_usage`: a last chunk carries the usage.
    public var includeUsage = false
    public var logitBias: [Int: Double] = [:]
    // T5 extensions.
    public var numBeams: Int?
    public var lengthPenalty: Double?
    public var repetitionPenalty: Double?
    public var noRepeatNgramSize: Int?
    public var minTokens: Int?
    public var topK: Int?
    public var cot: CoTRequest?
    public var selfConsistency: Int?

    public init() {}

    /// Keys both endpoints accept besides their own.
    static let sharedKeys: Set<String> = [
        "model", "max_tokens", "temperature", "top_p", "n", "stop", "seed", "stream", "stream_options", "logprobs", "user",
        "presence_penalty", "frequency_penalty", "logit_bias",
        "num_beams", "length_penalty", "repetition_penalty", "no_repeat_ngram_size", "min_tokens", "top_k", "cot",
        "self_consistency",
    ]

    init(_ f: JSONFields, limits: ServerLimits, maxTokensKey: String = "max_tokens") throws(APIError) {
        maxTokens = try f.int(maxTokensKey, in: 1...limits.maxTokens)
        temperature = try f.number("temperature", in: 0...2)
        topP = try f.number("top_p", in: 0...1)
        if topP == 0 { throw .invalid("'top_p' must be greater than 0 (1 disables it)", param: "top_p") }
        n = try f.int("n", in: 1...limits.maxChoices) ?? 1
        stop = try f.strings("stop", maxCount: limits.maxStops, allowEmptyStrings: false) ?? []
        seed = try f.int("seed", in: Int.min...Int.max)
        stream = try f.bool("stream") ?? false
        if let options = try f.object("stream_options", known: ["include_usage"]) {
            guard stream else { throw .invalid("'stream_options' is only allowed when 'stream' is true", param: "stream_options") }
            includeUsage = try options.bool("include_usage") ?? false
        }
        _ = try f.string("user")
        try f.requireNeutral("presence_penalty", isNeutral: \.isZero, reason: "is not supported (only 0); use 'repetition_penalty'")
        try f.requireNeutral("frequency_penalty", isNeutral: \.isZero, reason: "is not supported (only 0); use 'repetition_penalty'")
        if let bias = f.value("logit_bias") {
            let biases = try JSONFields(value: bias, known: [], context: nil, acceptAnyKey: true, param: "logit_bias")
            for (key, _) in biases.members {
                guard let id = Int(key), id >= 0 else {
                    throw .invalid("'logit_bias' keys must be token ids (non-negative integers as strings), not '\(key)'", param: "logit_bias")
                }
                logitBias[id] = try biases.number(key, in: -100...100)
            }
        }
        numBeams = try f.int("num_beams", in: 1...limits.maxChoices)
        lengthPenalty = try f.number("length_penalty", in: -100...100)
        repetitionPenalty = try f.number("repetition_penalty", in: 0...100)
        if repetitionPenalty == 0 { throw .invalid("'repetition_penalty' must be greater than 0 (1 disables it)", param: "repetition_penalty") }
        noRepeatNgramSize = try f.int("no_repeat_ngram_size", in: 0...limits.maxTokens)
        minTokens = try f.int("min_tokens", in: 0...limits.maxTokens)
        topK = try f.int("top_k", in: 0...1_000_000)
        if let mode = try f.string("cot") {
            guard let c = CoTRequest(rawValue: mode) else {
                throw .invalid("'cot' must be \"zero-shot\" or \"few-shot\", not \"\(mode)\"", param: "cot")
            }
            cot = c
        }
        selfConsistency = try f.int("self_consistency", in: 1...limits.maxChoices)
    }

    /// Whether the request samples (temperature > 0, or self-consistency over several paths).
    public var samples: Bool { (temperature.map { $0 > 0 } ?? false) || (selfConsistency ?? 1) > 1 }

    /// The engine options for this request. Fields the request leaves out take OpenAI's neutral values (greedy when
    /// `temperature` is absent, as T5 checkpoints' own defaults are); from `base` (the model folder's
    /// generation_config.json) only the token controls are kept: suppressed tokens, bad words, forced EOS, EOS id.
    /// `randomSeed` gives the seed of a sampled request that sets none.
    public func options(base: GenerationOptions, limits: ServerLimits, defaultMaxTokens: Int,
                        randomSeed: () -> UInt64) throws(APIError) -> GenerationOptions {
        var o = base
        o.maxNewTokens = maxTokens ?? min(defaultMaxTokens, limits.maxTokens)
        o.minNewTokens = minTokens ?? 0
        guard o.minNewTokens <= o.maxNewTokens else {
            throw .invalid("'min_tokens' (\(o.minNewTokens)) must not exceed 'max_tokens' (\(o.maxNewTokens))", param: "min_tokens")
        }
        o.numBeams = numBeams ?? 1
        o.lengthPenalty = lengthPenalty ?? 1
        o.earlyStopping = base.earlyStopping
        o.repetitionPenalty = Float(repetitionPenalty ?? 1)
        o.noRepeatNgramSize = noRepeatNgramSize ?? 0
        o.stopStrings = stop
        o.sequenceBias = logitBias.keys.sorted().map { SequenceBias(tokens: [$0], bias: Float(logitBias[$0]!)) }
        o.maxPromptTokens = limits.maxPromptTokens
        o.truncation = .error
        o.doSample = false
        o.temperature = 1
        o.topK = 0
        o.topP = 1
        o.seed = 0
        o.numReturnSequences = n

        let paths = selfConsistency ?? 1
        if paths > 1 {
            guard n == 1 else { throw .invalid("'self_consistency' returns one answer per prompt: 'n' must be 1", param: "n") }
            guard !stream else { throw .invalid("'self_consistency' cannot stream: the answer is known after the vote", param: "stream") }
            guard temperature != 0 else { throw .invalid("'self_consistency' samples its paths: 'temperature' must be > 0", param: "temperature") }
            guard (numBeams ?? 1) == 1 else { throw .invalid("'self_consistency' samples: 'num_beams' must be 1", param: "num_beams") }
            o.temperature = GenerationOptions.selfConsistencyTemperature
            o.topK = GenerationOptions.selfConsistencyTopK
            o.numReturnSequences = paths
        }
        if samples {
            guard o.numBeams == 1 else {
                throw .invalid("beam search does not sample: use 'num_beams' 1 with 'temperature' > 0, or 'temperature' 0", param: "num_beams")
            }
            o.doSample = true
            if let temperature { o.temperature = Float(temperature) }
            if let topK { o.topK = topK }
            o.topP = Float(topP ?? 1)
            o.seed = seed.map { UInt64(bitPattern: Int64($0)) } ?? randomSeed()
        } else if n > o.numBeams {
            throw .invalid("n = \(n) needs sampling ('temperature' > 0) or 'num_beams' >= n: greedy search has one answer", param: "n")
        }
        guard o.rowsPerPrompt <= limits.maxBatch else {
            throw .invalid("the request needs \(o.rowsPerPrompt) decoder rows per prompt, over the server's batch of \(limits.maxBatch)", param: "n")
        }
        do { try o.validate() } catch {
            throw .invalid("\(error)")
        }
        return o
    }
}

extension GenerationOptions {
    /// Decoder rows one prompt takes: its beams, or its samples.
    public var rowsPerPrompt: Int { numBeams > 1 ? numBeams : numReturnSequences }
}
