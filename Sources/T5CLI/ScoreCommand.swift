// `t5 score`: the log-likelihood of given targets after a prompt (teacher forcing), as text or token ids.
import ArgumentParser
import Foundation
import T5Engine

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score fixed targets given a prompt: summed and per-token log-probabilities (teacher forcing).",
        discussion: """
        Text targets are tokenized as the tokenizer does for text, EOS appended; --target-ids are taken as given \
        (add EOS, id 1, to score a complete answer). All targets of a prompt are scored in one batch. The \
        log-probabilities are natural logs of the model's raw distribution (no decoding options apply), equal to \
        transformers' -loss × target length. Plain output: one line per target, "logprob<TAB>mean<TAB>target".
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "The prompt text.")
    var prompt: String?
    @Option(name: .long, help: "The prompt as comma-separated token ids.")
    var ids: String?
    @Option(name: .long, help: "A target text (repeatable).")
    var target: [String] = []
    @Option(name: .long, help: "A target as comma-separated token ids, taken as given (repeatable).")
    var targetIds: [String] = []
    @Flag(name: .long, help: "Print {\"targets\": [{\"ids\", \"logprob\", \"token_logprobs\", \"mean_logprob\"}, ...]}.")
    var json = false

    func validate() throws {
        guard (prompt == nil) != (ids == nil) else { throw ValidationError("give the prompt as --prompt TEXT or --ids IDS (one of them)") }
        if let prompt { try requirePrompt(prompt, what: "--prompt") }
        if let ids { _ = try parseIds(ids) }
        guard !target.isEmpty || !targetIds.isEmpty else { throw ValidationError("give at least one --target or --target-ids") }
        if let blank = target.first(where: isBlankPrompt) { throw ValidationError("--target \(blank.debugDescription) is empty") }
        for t in targetIds { _ = try tokenList(t, flag: "--target-ids") }
    }

    func run() async throws {
        let textual = prompt != nil || !target.isEmpty
        let folder = try model.loadFolder(tokenizer: textual)
        let vocab = folder.model.config.vocabSize
        func encode(_ text: String) throws -> [Int] {
            guard let tokenizer = folder.tokenizer else { throw ValidationError("text needs the model's tokenizer") }
            return tokenizer.encode(text, addEOS: true)
        }
        let promptIds = try ids.map(parseIds) ?? encode(prompt!)
        if let bad = promptIds.first(where: { $0 >= vocab }) {
            throw InputError(message: "--ids: token id \(bad) is outside the vocabulary 0..<\(vocab) of this model")
        }
        let targets = try target.map { (label: $0, ids: try encode($0)) }
            + targetIds.map { (label: $0, ids: try tokenList($0, flag: "--target-ids")) }
        for t in targets {
            if let bad = t.ids.first(where: { $0 >= vocab }) {
                throw InputError(message: "--target-ids \(t.label): token id \(bad) is outside the vocabulary 0..<\(vocab) of this model")
            }
        }
        let scores = try folder.model.score(prompt: promptIds, targets: targets.map(\.ids))
        if json {
            writeOut(try jsonLine(["targets": scores.map(scoreJSON)]) + "\n")
        } else {
            for (t, s) in zip(targets, scores) {
                writeOut(String(format: "%.6f\t%.6f\t", s.logprob, s.meanLogprob) + t.label + "\n")
            }
        }
    }
}

/// A target's score as `t5 score --json` prints it.
func scoreJSON(_ s: TargetScore) -> [String: Any] {
    ["ids": s.ids, "logprob": s.logprob, "token_logprobs": s.tokenLogprobs.map(Double.init), "mean_logprob": s.meanLogprob]
}
