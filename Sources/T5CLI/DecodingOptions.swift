// Decoding flags of `t5 generate` / `t5 eval`; unset flags keep the model's generation_config.json defaults.
import ArgumentParser
import Foundation
import T5Engine

struct DecodingOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Most tokens to generate (EOS included). Default: generation_config.json, else 64.")
    var maxNewTokens: Int?
    @Option(name: .long, parsing: .unconditional, help: "Forbid EOS before this many new tokens.")
    var minNewTokens: Int?
    @Option(name: .long, parsing: .unconditional, help: "Beam search with this many beams (1 = greedy or sampling).")
    var numBeams: Int?
    @Option(name: .long, parsing: .unconditional, help: "Beam scores are divided by length^penalty (> 0 favours longer outputs).")
    var lengthPenalty: Double?
    @Option(name: .long, help: "Beam search stopping: heuristic (transformers' false), always (true) or never.")
    var earlyStopping: String?
    @Option(name: .long, parsing: .unconditional, help: "Sequences returned per prompt (beam search or sampling).")
    var numReturnSequences: Int?
    @Flag(name: .long, help: "Sample instead of taking the most likely token.")
    var sample = false
    @Option(name: .long, parsing: .unconditional, help: "Sampling temperature (> 0).")
    var temperature: Float?
    @Option(name: .long, parsing: .unconditional, help: "Sample from the k most likely tokens only (0 disables).")
    var topK: Int?
    @Option(name: .long, parsing: .unconditional, help: "Sample from the smallest set of tokens whose probability reaches p, in (0, 1].")
    var topP: Float?
    @Option(name: .long, parsing: .unconditional, help: "Seed of the sampler: same seed, same output. Default: a fresh random seed, reported (seed: N on stderr, \"seed\" in --json) so the run can be replayed.")
    var seed: UInt64?
    @Option(name: .long, parsing: .unconditional, help: "Penalty > 1 discourages repeating tokens.")
    var repetitionPenalty: Float?
    @Option(name: .long, parsing: .unconditional, help: "Never repeat an n-gram of this size (0 disables).")
    var noRepeatNgramSize: Int?
    @Option(name: .long, help: "Stop when the text contains this string (repeatable).")
    var stop: [String] = []
    @Option(name: .long, help: "Never generate these token ids (comma-separated; transformers' suppress_tokens).")
    var suppressTokens: String?
    @Option(name: .customLong("begin-suppress"), help: "The output may not start with these token ids (comma-separated; begin_suppress_tokens).")
    var beginSuppress: String?
    @Option(name: .long, help: "Never generate these words (comma-separated text, each tokenized as it reads mid-sentence; a word of several tokens is banned as a sequence, as transformers' bad_words_ids).")
    var badWords: String?
    @Option(name: .long, help: "Never generate this token-id sequence (comma-separated ids; repeatable).")
    var badWordsIds: [String] = []
    @Option(name: .long, help: "Add BIAS to token ID's score at every step: ID:BIAS,... (e.g. 32:-5,1:2.5; -inf bans).")
    var logitBias: String?
    @Option(name: .long, parsing: .unconditional, help: "Longest prompt accepted, in tokens (EOS included); longer ones follow --truncate. Default: no limit (T5's relative positions have no hard one; memory is checked).")
    var maxPromptTokens: Int?
    @Option(name: .long, help: "A prompt over --max-prompt-tokens: error (default), left (drop its start) or right (drop its end); EOS is kept.")
    var truncate: String?
    @Flag(name: .long, help: "End every output with EOS at the last step --max-new-tokens allows (forced_eos_token_id).")
    var forcedEos = false

    /// The model's defaults with every given flag applied, validated against the model's vocabulary (errors name the
    /// flag). `tokenizer` turns --bad-words into ids; without one (token-id mode) --bad-words is refused.
    func apply(to defaults: GenerationOptions, tokenizer: T5Tokenizer?, vocabularySize: Int) throws -> GenerationOptions {
        var o = defaults
        if let maxNewTokens { o.maxNewTokens = maxNewTokens }
        if let minNewTokens { o.minNewTokens = minNewTokens }
        if let numBeams { o.numBeams = numBeams }
        if let lengthPenalty { o.lengthPenalty = lengthPenalty }
        if let earlyStopping {
            guard let mode = EarlyStopping(rawValue: earlyStopping) else {
                throw ValidationError("--early-stopping must be heuristic, always or never, got '\(earlyStopping)'")
            }
            o.earlyStopping = mode
        }
        if let numReturnSequences { o.numReturnSequences = numReturnSequences }
        if sample { o.doSample = true }
        if let temperature { o.temperature = temperature }
        if let topK { o.topK = topK }
        if let topP { o.topP = topP }
        if let seed { o.seed = seed }
        if let repetitionPenalty { o.repetitionPenalty = repetitionPenalty }
        if let noRepeatNgramSize { o.noRepeatNgramSize = noRepeatNgramSize }
        if !stop.isEmpty { o.stopStrings = stop }
        if let suppressTokens { o.suppressTokens = try tokenList(suppressTokens, flag: "--suppress-tokens") }
        if let beginSuppress { o.beginSuppressTokens = try tokenList(beginSuppress, flag: "--begin-suppress") }
        o.badWordsIds += try badWordsIds.map { try tokenList($0, flag: "--bad-words-ids") }
        if let badWords {
            guard let tokenizer else { throw ValidationError("--bad-words needs a tokenizer; with --ids give --bad-words-ids") }
            let words = badWords.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !words.isEmpty else { throw ValidationError("--bad-words is empty: give comma-separated words") }
            for w in words {
                let ids = tokenizer.encode(w, addEOS: false)
                guard !ids.isEmpty else { throw ValidationError("--bad-words: '\(w)' gives no tokens") }
                o.badWordsIds.append(ids)
            }
        }
        if let logitBias { o.sequenceBias += try parseLogitBias(logitBias) }
        if forcedEos { o.forcedEOS = true }
        if let maxPromptTokens { o.maxPromptTokens = maxPromptTokens }
        if let truncate {
            guard let t = PromptTruncation(rawValue: truncate) else {
                throw ValidationError("--truncate must be error, left or right, got '\(truncate)'")
            }
            guard o.maxPromptTokens != nil else { throw ValidationError("--truncate needs --max-prompt-tokens N") }
            o.truncation = t
        }
        do { try o.validate(vocabularySize: vocabularySize) } catch let error as GenerationError {
            throw ValidationError(cliMessage(error))
        }
        return o
    }
}

/// "3, 17,42" as token ids; `flag` names the option in errors.
func tokenList(_ text: String, flag: String) throws -> [Int] {
    let pieces = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !(pieces.count == 1 && pieces[0].isEmpty) else { throw ValidationError("\(flag) is empty: give comma-separated token ids") }
    return try pieces.map { piece in
        guard let id = Int(piece), id >= 0 else { throw ValidationError("\(flag): '\(piece)' is not a token id") }
        return id
    }
}

/// "ID:BIAS,ID:BIAS" as one-token sequence biases; a bias must be a number or -inf.
func parseLogitBias(_ text: String) throws -> [SequenceBias] {
    try text.split(separator: ",").map { entry in
        let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let id = Int(parts[0]), id >= 0 else {
            throw ValidationError("--logit-bias: '\(entry)' is not ID:BIAS (e.g. 32:-5)")
        }
        let bias: Float? = parts[1] == "-inf" ? -.infinity : Float(parts[1])
        guard let bias, bias.isFinite || bias == -.infinity else {
            throw ValidationError("--logit-bias: '\(entry)': the bias must be a finite number or -inf")
        }
        return SequenceBias(tokens: [id], bias: bias)
    }
}

extension DecodingOptions {
    /// Seeds drawn when sampling without --seed: below 2^32, short enough to type back.
    static let drawnSeedRange: Range<UInt64> = 0..<(1 << 32)

    /// The options a run uses and the seed to report. Sampling without --seed draws a fresh random seed, so repeated
    /// runs differ and any of them can be replayed with --seed N; `seed` is nil when nothing is sampled and no
    /// --seed was given. `drawn` says the seed was not given, so plain output should report it.
    func seeded(_ o: GenerationOptions, samples: Bool) -> (options: GenerationOptions, seed: UInt64?, drawn: Bool) {
        if let seed { return (o, seed, false) }
        guard samples else { return (o, nil, false) }
        var o = o
        o.seed = UInt64.random(in: Self.drawnSeedRange)
        return (o, o.seed, true)
    }
}

/// Reports a drawn seed on stderr (`seed: N`) so the run can be replayed with `--seed N`; JSON output carries it instead.
func reportSeed(_ seed: UInt64?, drawn: Bool, json: Bool) {
    guard let seed, drawn, !json else { return }
    FileHandle.standardError.write(Data("seed: \(seed)\n".utf8))
}

/// Engine option names as the CLI spells them (`topP` → `--top-p`).
func cliMessage(_ error: GenerationError) -> String {
    guard case .invalidOption(let name, let value, let reason) = error else { return "\(error)" }
    let flag = name.reduce(into: "--") { out, ch in
        if ch.isUppercase { out += "-" + ch.lowercased() } else { out.append(ch) }
    }
    let cli = ["--do-sample": "--sample", "--stop-strings": "--stop", "--sequence-bias": "--logit-bias",
               "--begin-suppress-tokens": "--begin-suppress", "--forced-e-o-s": "--forced-eos",
               "--truncation": "--truncate"][flag] ?? flag
    return "\(cli) \(value): \(reason)"
}
