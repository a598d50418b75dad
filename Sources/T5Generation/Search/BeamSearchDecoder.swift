// Beam search, step for step as transformers 4.57's `_beam_search` does it, so outputs match exactly:
// 2·numBeams candidates per prompt from the accumulated log-probabilities, the best numBeams unfinished ones
// continue, and candidates that end (EOS or the length limit) compete for numBeams finished slots with
// their score divided by length ** lengthPenalty. A forced prefix is fed to every beam first (transformers'
// decoder prompt): lengths for the penalty count from after it.
import Foundation
import T5Modeling

/// transformers adds -1e9 (in float32) to rule a candidate out; the same constant keeps ties and orders equal.
private let ruledOut: Float = -1.0e9

/// A (possibly finished) hypothesis: the decoder input so far, start token included, and its score.
private struct Hypothesis {
    var tokens: [Int]
    var score: Float
    var finished: Bool = false
    /// Per generated token (after the prefix), when `options.logprobs` asks for them.
    var logprobs: [TokenLogprob] = []
}

/// One of the best continuations of a step: the hypothesis it makes, the beam it extends, whether it ends there.
private struct Candidate {
    var hypothesis: Hypothesis
    var parent: Int
    var ends: Bool
}

/// The beams of one prompt.
private struct PromptBeams {
    var running: [Hypothesis]
    var finished: [Hypothesis]
    /// Whether a running beam can still beat the worst finished one.
    var improvable = true
}

/// Beam search as a request decoder: `numBeams` rows per prompt that stay until the request ends, reordered after
/// every step so row `b` holds beam `b`.
public final class BeamSearchDecoder: RequestDecoder {
    public let options: GenerationOptions
    private let hooks: GenerationHooks
    private let eos: Int
    private let promptCount: Int
    private var penalties: LogitsProcessorList
    private var state: [PromptBeams] = []
    /// Session rows, `p * numBeams + b` for beam `b` of prompt `p`.
    private var rowIds: [Int] = []
    private var vocab = 0
    /// transformers' `cur_len`: the decoder input length, start token and prefix included.
    private var curLen = 1
    /// Prefix tokens fed so far (to every beam, before the search starts).
    private var prefilled = 0
    private var done = false
    private var scored: [(score: Float, index: Int)] = []
    private var recorder: LogprobRecorder?
    /// This step's top log-probabilities per beam of the prompt being expanded, computed once per parent beam.
    private var parentTops: [[TokenLogprob.Alternative]?] = []

    public init(options: GenerationOptions, promptCount: Int, eos: Int, hooks: GenerationHooks = GenerationHooks()) {
        self.options = options
        self.hooks = hooks
        self.eos = eos
        self.promptCount = promptCount
        penalties = LogitsProcessorList.penalties(for: options, eos: eos)
        recorder = options.logprobs.map { LogprobRecorder(k: $0) }
        curLen = 1 + options.prefix.count
    }

    private var beams: Int { options.numBeams }
    private var prefix: [Int] { options.prefix }
    /// transformers' `decoder_prompt_len`: start token and prefix.
    private var promptLength: Int { 1 + options.prefix.count }
    /// Counts the decoder start token, as transformers' max_length.
    private var maxLength: Int { 1 + options.maxNewTokens }

    public var rowsNeeded: Int { promptCount * beams }
    public var maxSteps: Int { options.maxNewTokens }
    public var isFinished: Bool { done }

    public func start(in session: DecodingSession, encoded: EncodedPrompts) throws {
        precondition(rowIds.isEmpty, "a decoder starts once")
        guard encoded.count == promptCount else {
            throw RequestError.invalidArgument(name: "encoded", value: "\(encoded.count) prompts", reason: "the decoder was made for \(promptCount)")
        }
        // The prefix ids and `logprobs` are checked against the vocabulary here, for callers of `makeDecoder`.
        try options.validate(vocabularySize: session.model.config.vocabSize)
        for p in 0..<promptCount { rowIds += try session.join(encoded, prompt: p, rows: beams) }
        vocab = session.model.config.vocabSize
        scored.reserveCapacity(beams * vocab)
        parentTops = Array(repeating: nil, count: beams)
        let input = [session.model.config.decoderStartTokenId] + prefix
        // Beam 0 starts alone: the others carry -1e9 so the first step does not pick duplicates.
        state = (0..<promptCount).map { _ in
            PromptBeams(running: (0..<beams).map { b in Hypothesis(tokens: input, score: b == 0 ? 0 : ruledOut) },
                        finished: (0..<beams).map { _ in Hypothesis(tokens: input, score: ruledOut) })
        }
    }

    public var inputs: [(row: Int, token: Int)] {
        guard !done else { return [] }
        return state.indices.flatMap { p in
            state[p].running.indices.map { b in
                let tokens = state[p].running[b].tokens
                return (rowIds[p * beams + b], prefilled < prefix.count ? tokens[prefilled] : tokens.last!)
            }
        }
    }

    public func advance(in session: DecodingSession) throws -> [TokenEvent] {
        if prefilled < prefix.count {
            // Every beam was fed the same prefix token: nothing to choose. A prefix as long as maxNewTokens is all.
            prefilled += 1
            done = prefilled == prefix.count && curLen >= maxLength
            return []
        }
        var parents = rowIds
        var allCandidatesEnd = true
        for p in state.indices {
            try scoreContinuations(of: state[p], prompt: p, session: session, generated: curLen - 1)
            for b in parentTops.indices { parentTops[b] = nil }
            let candidates = try topCandidates(&scored, count: 2 * beams).map { c in
                try expand(state[p], index: c.index, score: c.score, endsAtLength: curLen + 1 >= maxLength,
                           logprob: logprob(prompt: p, index: c.index, session: session))
            }
            if candidates.contains(where: { !$0.ends }) { allCandidatesEnd = false }
            let next = continuing(candidates)
            state[p].running = next.map(\.hypothesis)
            for (b, c) in next.enumerated() { parents[p * beams + b] = rowIds[p * beams + c.parent] }
            state[p].finished = finish(state[p], candidates: candidates, length: curLen + 1 - promptLength)
        }
        try session.reorder(rowIds, from: parents)
        curLen += 1
        for p in state.indices where state[p].improvable {
            state[p].improvable = canImprove(state[p], length: curLen, maxLength: maxLength)
        }
        done = isDone(state, allCandidatesEnd: allCandidatesEnd)
        return []
    }

    public func finish(in session: DecodingSession, cancelled: Bool) throws -> [[GeneratedSequence]] {
        for id in rowIds { try session.leave(row: id) }
        rowIds = []
        return state.map { results(of: $0, cancelled: cancelled && !done) }
    }

    // MARK: Steps

    /// Every (beam, token) continuation of one prompt, scored: log-softmax of the logits, then the penalties,
    /// plus the beam's score. Candidate `b * vocab + t` extends beam `b` with token `t`.
    private func scoreContinuations(of beams: PromptBeams, prompt p: Int, session: DecodingSession, generated: Int) throws {
        scored.removeAll(keepingCapacity: true)
        for (b, hypothesis) in beams.running.enumerated() {
            let row = p * self.beams + b
            try session.withMutableLogits(row: rowIds[row]) { scores in
                logSoftmax(scores)
                penalties.process(scores, context: LogitsContext(sequence: hypothesis.tokens, generated: generated))
                let base = hypothesis.score
                for t in 0..<scores.count {
                    let s = scores[t]
                    if s.isNaN { throw GenerationError.nonFiniteLogits(row: row, step: generated) }
                    scored.append((s + base, b * scores.count + t))
                }
            }
        }
    }

    /// The hypothesis candidate `index` makes, and whether it ends (EOS, or the length limit).
    private func expand(_ beams: PromptBeams, index: Int, score: Float, endsAtLength: Bool, logprob: TokenLogprob?) -> Candidate {
        let parent = index / vocab, token = index % vocab
        var h = beams.running[parent]
        h.tokens.append(token)
        h.score = score
        if let logprob { h.logprobs.append(logprob) }
        return Candidate(hypothesis: h, parent: parent, ends: token == eos || endsAtLength)
    }

    /// With `options.logprobs`: candidate `index`'s token under its parent beam's processed log-probabilities, which
    /// the parent's logits row still holds (transformers' beam transition score), and that row's most likely tokens.
    private func logprob(prompt p: Int, index: Int, session: DecodingSession) throws -> TokenLogprob? {
        guard recorder != nil else { return nil }
        let parent = index / vocab, token = index % vocab
        return session.withLogits(row: rowIds[p * beams + parent]) { row in
            if parentTops[parent] == nil { parentTops[parent] = recorder!.top(ofLogprobs: row) }
            return TokenLogprob(id: token, logprob: row[token], top: parentTops[parent]!)
        }
    }

    /// The best numBeams candidates that go on; ended ones are pushed down by -1e9 (and go on only if too few did not end).
    private func continuing(_ candidates: [Candidate]) -> [Candidate] {
        var order = candidates.enumerated().map { (i, c) in
            (score: c.ends ? c.hypothesis.score + ruledOut : c.hypothesis.score, index: i)
        }
        return topCandidates(&order, count: beams).map { pick in
            var c = candidates[pick.index]
            c.hypothesis.score = pick.score
            return c
        }
    }

    /// The finished slots after this step: candidates among the first numBeams that ended compete with the
    /// finished ones, scored by length ** lengthPenalty.
    private func finish(_ beams: PromptBeams, candidates: [Candidate], length: Int) -> [Hypothesis] {
        let full = beams.finished.allSatisfy(\.finished) && options.earlyStopping == .always
        let divisor = Float(pow(Double(length), options.lengthPenalty))
        var merged: [Hypothesis] = beams.finished
        for (i, c) in candidates.enumerated() {
            let justFinished = c.ends && i < self.beams
            var h = c.hypothesis
            h.score = h.score / divisor
            if full { h.score += ruledOut }
            if !beams.improvable { h.score += ruledOut }
            if !justFinished { h.score += ruledOut }
            h.finished = justFinished
            merged.append(h)
        }
        var order = merged.enumerated().map { (score: $0.element.score, index: $0.offset) }
        return topCandidates(&order, count: self.beams).map { merged[$0.index] }
    }

    /// transformers' early-stop heuristic: can the best running beam still beat the worst finished one?
    private func canImprove(_ beams: PromptBeams, length curLen: Int, maxLength: Int) -> Bool {
        let lengthPenalty = options.lengthPenalty
        let hypotheticalLength = options.earlyStopping == .never && lengthPenalty > 0 ? maxLength - promptLength : curLen - promptLength
        let best = beams.running[0].score / Float(pow(Double(hypotheticalLength), lengthPenalty))
        let worst = beams.finished.map(\.score).min() ?? ruledOut
        return beams.finished.contains { best > ($0.finished ? worst : ruledOut) }
    }

    /// Stop when no prompt can improve, when every slot is finished under `earlyStopping == .always`, or when
    /// every candidate of the step ended.
    private func isDone(_ state: [PromptBeams], allCandidatesEnd: Bool) -> Bool {
        let allFinished = state.allSatisfy { $0.finished.allSatisfy(\.finished) }
        let openBeamExists = !(allFinished && options.earlyStopping == .always)
        return !(state.contains(where: \.improvable) && openBeamExists && !allCandidatesEnd)
    }

    /// The best `numReturnSequences` finished hypotheses (the running ones if cancelled before any finished).
    /// A prefix that fills maxNewTokens is returned as it is, unscored.
    private func results(of beams: PromptBeams, cancelled: Bool) -> [GeneratedSequence] {
        let logprobs = options.logprobs != nil
        if curLen == promptLength && prefilled == prefix.count && !cancelled {
            let tokens = Array(beams.running[0].tokens.dropFirst())
            let only = GeneratedSequence(tokens: tokens, finishReason: .length, score: nil, logprobs: logprobs ? [] : nil)
            return Array(repeating: only, count: options.numReturnSequences)
        }
        let pick = cancelled && !beams.finished.contains(where: \.finished) ? beams.running : beams.finished
        return pick.prefix(options.numReturnSequences).map { h in
            let tokens = Array(h.tokens.dropFirst())
            let reason: FinishReason = cancelled ? .cancelled : (tokens.last == eos ? .eos : .length)
            return GeneratedSequence(tokens: tokens, finishReason: reason, score: h.score, logprobs: logprobs ? h.logprobs : nil)
        }
    }
}

/// The `count` best entries, best first; among equal scores the lower index first (torch.topk's order on CPU
/// for the sizes used here). Partially sorts `items` in place.
private func topCandidates(_ items: inout [(score: Float, index: Int)], count: Int) -> [(score: Float, index: Int)] {
    func better(_ a: (score: Float, index: Int), _ b: (score: Float, index: Int)) -> Bool {
        a.score > b.score || (a.score == b.score && a.index < b.index)
    }
    var best: [(score: Float, index: Int)] = []
    best.reserveCapacity(count + 1)
    for item in items {
        if best.count == count, let last = best.last, !better(item, last) { continue }
        var i = best.count
        while i > 0, better(item, best[i - 1]) { i -= 1 }
        best.insert(item, at: i)
        if best.count > count { best.removeLast() }
    }
    return best
}
