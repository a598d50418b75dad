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

    /// The model's defaults with every given flag applied; the result is validated by the engine, which names the option.
    func apply(to defaults: GenerationOptions) throws -> GenerationOptions {
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
        do { try o.validate() } catch let error as GenerationError {
            throw ValidationError(cliMessage(error))
        }
        return o
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
    let cli = ["--do-sample": "--sample", "--stop-strings": "--stop"][flag] ?? flag
    return "\(cli) \(value): \(reason)"
}
