// Scoring fixed answers: the log-likelihood of each target given a prompt, by teacher forcing (the way Flan is
// evaluated: rank classification over the options). Equal to transformers' `-loss × len(labels)`.
import T5Modeling

/// One target's score.
public struct TargetScore: Sendable, Equatable {
    /// The target's token ids as scored (text targets: with the EOS the tokenizer appends).
    public var ids: [Int]
    /// log p(target | prompt): the sum of `tokenLogprobs`.
    public var logprob: Double
    /// log p(token | prompt, earlier target tokens), one per id; natural log, of the raw logits (no processors).
    public var tokenLogprobs: [Float]
    /// `logprob / ids.count`: transformers' `-loss`.
    public var meanLogprob: Double { ids.isEmpty ? 0 : logprob / Double(ids.count) }

    public init(ids: [Int], logprob: Double, tokenLogprobs: [Float]) {
        self.ids = ids
        self.logprob = logprob
        self.tokenLogprobs = tokenLogprobs
    }
}

extension T5Model {
    /// Scores every target (token ids, taken as given: append EOS yourself to score a complete answer) as a
    /// continuation of `prompt`. The prompt is encoded once; all targets run as rows of one decoding session, one
    /// batched decoder step per target position, and each row leaves when its target is consumed.
    public func score(prompt: [Int], targets: [[Int]]) throws -> [TargetScore] {
        try validate(prompts: [prompt])
        guard !targets.isEmpty else {
            throw GenerationError.invalidOption(name: "targets", value: "[]", reason: "give at least one target to score")
        }
        for (i, t) in targets.enumerated() {
            guard !t.isEmpty else { throw GenerationError.invalidOption(name: "targets", value: "target \(i): []", reason: "is empty") }
            if let bad = t.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw GenerationError.invalidOption(name: "targets", value: "target \(i): id \(bad)",
                                                    reason: "outside the vocabulary 0..<\(config.vocabSize)")
            }
        }
        let longest = targets.map(\.count).max()!
        let encoded = try encodeForDecoding(prompts: [prompt])
        let session = try DecodingSession(model: self, capacity: targets.count, maxSteps: longest, maxPromptLength: prompt.count)
        let ids = try session.join(encoded, prompt: 0, rows: targets.count)
        var target = [Int: Int]()   // row id -> target index
        for (i, id) in ids.enumerated() { target[id] = i }
        var logprobs = targets.map { [Float](repeating: 0, count: $0.count) }
        var scratch = [Float](repeating: 0, count: config.vocabSize)
        for position in 0..<longest {
            let feed = session.rows.map { position == 0 ? config.decoderStartTokenId : targets[target[$0]!][position - 1] }
            try session.step(feed)
            for row in session.rows {
                let i = target[row]!
                session.withLogits(row: row) { logits in _ = scratch.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: logits) } }
                let lp = scratch.withUnsafeMutableBufferPointer { s -> Float in
                    logSoftmax(s)
                    return s[targets[i][position]]
                }
                guard lp.isFinite else { throw GenerationError.nonFiniteLogits(row: i, step: position) }
                logprobs[i][position] = lp
            }
            for row in session.rows where targets[target[row]!].count == position + 1 { try session.leave(row: row) }
        }
        return targets.indices.map { i in
            TargetScore(ids: targets[i], logprob: logprobs[i].reduce(0) { $0 + Double($1) }, tokenLogprobs: logprobs[i])
        }
    }
}
