// Decoding flags of `t5 generate` / `t5 eval`; unset flags keep the model's generation_config.json defaults.
import ArgumentParser
import T5Engine

struct DecodingOptions: ParsableArguments {
    @Option(name: .long, help: "Most tokens to generate (EOS included). Default: generation_config.json, else 64.")
    var maxNewTokens: Int?
    @Option(name: .long, help: "Forbid EOS before this many new tokens.")
    var minNewTokens: Int?
    @Option(name: .long, help: "Beam search with this many beams (1 = greedy or sampling).")
    var numBeams: Int?
    @Option(name: .long, help: "Beam scores are divided by length^penalty (> 0 favours longer outputs).")
    var lengthPenalty: Double?
    @Option(name: .long, help: "Beam search stopping: heuristic (transformers' false), always (true) or never.")
    var earlyStopping: String?
    @Option(name: .long, help: "Sequences returned per prompt (beam search or sampling).")
    var numReturnSequences: Int?
    @Flag(name: .long, help: "Sample instead of taking the most likely token.")
    var sample = false
    @Option(name: .long, help: "Sampling temperature (> 0).")
    var temperature: Float?
    @Option(name: .long, help: "Sample from the k most likely tokens only (0 disables).")
    var topK: Int?
    @Option(name: .long, help: "Sample from the smallest set of tokens whose probability reaches p, in (0, 1].")
    var topP: Float?
    @Option(name: .long, help: "Seed of the sampler: same seed, same output.")
    var seed: UInt64?
    @Option(name: .long, help: "Penalty > 1 discourages repeating tokens.")
    var repetitionPenalty: Float?
    @Option(name: .long, help: "Never repeat an n-gram of this size (0 disables).")
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

/// Engine option names as the CLI spells them (`topP` → `--top-p`).
func cliMessage(_ error: GenerationError) -> String {
    guard case .invalidOption(let name, let value, let reason) = error else { return "\(error)" }
    let flag = name.reduce(into: "--") { out, ch in
        if ch.isUppercase { out += "-" + ch.lowercased() } else { out.append(ch) }
    }
    let cli = ["--do-sample": "--sample", "--stop-strings": "--stop"][flag] ?? flag
    return "\(cli) \(value): \(reason)"
}
