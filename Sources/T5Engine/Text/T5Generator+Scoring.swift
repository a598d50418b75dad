// Text-level scoring: the log-likelihood of answers given a prompt, and rank classification over options.

/// Options ranked by their log-likelihood given one prompt.
public struct RankedChoices: Sendable, Equatable {
    /// The options as given, with their scores, in the given order.
    public var choices: [(text: String, score: TargetScore)]
    /// Index (into `choices`) of the most likely option; the first one on ties.
    public var best: Int

    public var bestText: String { choices[best].text }

    public static func == (a: RankedChoices, b: RankedChoices) -> Bool {
        a.best == b.best && a.choices.map(\.text) == b.choices.map(\.text) && a.choices.map(\.score) == b.choices.map(\.score)
    }
}

extension T5Generator {
    /// log p(target | prompt) for each target text; targets are tokenized as the tokenizer does for text (EOS
    /// appended) and scored in one batch. Runs on a decode thread of its own.
    public func score(prompt: String, targets: [String]) async throws -> [TargetScore] {
        guard !targets.isEmpty else {
            throw GenerationError.invalidOption(name: "targets", value: "[]", reason: "give at least one target to score")
        }
        let tokenizer = self.tokenizer, model = self.model
        let promptIds = try tokenizer.encodeWithEOS(prompt)
        let targetIds = try targets.map { try tokenizer.encodeWithEOS($0) }
        return try await DecodeThread.run { _ in try model.score(prompt: promptIds, targets: targetIds) }
    }

    /// Rank classification (how Flan is evaluated on multiple-choice tasks): the option with the highest
    /// log-likelihood given the prompt, and every option's score. A blank option is refused.
    public func rank(prompt: String, choices: [String]) async throws -> RankedChoices {
        guard !choices.isEmpty else {
            throw GenerationError.invalidOption(name: "choices", value: "[]", reason: "give at least one option to rank")
        }
        if let blank = choices.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw GenerationError.invalidOption(name: "choices", value: "option \(blank + 1): \(choices[blank].debugDescription)", reason: "is empty")
        }
        let scores = try await score(prompt: prompt, targets: choices)
        var best = 0
        for i in scores.indices where scores[i].logprob > scores[best].logprob { best = i }
        return RankedChoices(choices: Array(zip(choices, scores)), best: best)
    }
}
