// Beam search, step for step as transformers 4.57's `_beam_search` does it, so outputs match exactly:
// 2·numBeams candidates per prompt from the accumulated log-probabilities, the best numBeams unfinished ones
// continue, and candidates that end (EOS or the length limit) compete for numBeams finished slots with
// their score divided by length ** lengthPenalty.
import Foundation
import T5Modeling

/// transformers adds -1e9 (in float32) to rule a candidate out; the same constant keeps ties and orders equal.
private let ruledOut: Float = -1.0e9

private struct Hypothesis {
    var tokens: [Int]   // decoder input so far, start token included
    var score: Float
    var finished: Bool = false
}

extension T5Model {
    func beamSearch(prompts: [[Int]], options: GenerationOptions, hooks: GenerationHooks) throws -> [[GeneratedSequence]] {
        let beams = options.numBeams, vocab = config.vocabSize
        let eos = options.eosTokenId ?? config.eosTokenId
        let maxLength = 1 + options.maxNewTokens   // counts the decoder start token, as transformers' max_length
        let candidatesPerPrompt = 2 * beams
        let session = try DecodingSession(model: self, prompts: prompts, maxSteps: options.maxNewTokens,
                                          rowsPerPrompt: beams, reorderable: true)
        let processing = LogitsProcessing(options: options, eos: eos)
        let start = config.decoderStartTokenId
        let lengthPenalty = options.lengthPenalty

        // Beam 0 starts alone: the others carry -1e9 so the first step does not pick duplicates.
        var running = prompts.map { _ in
            (0..<beams).map { b in Hypothesis(tokens: [start], score: b == 0 ? 0 : ruledOut) }
        }
        var done = prompts.map { _ in (0..<beams).map { _ in Hypothesis(tokens: [start], score: ruledOut) } }
        var improvable = [Bool](repeating: true, count: prompts.count)
        var cancelled = false
        var curLen = 1
        var candidates: [(score: Float, index: Int)] = []
        candidates.reserveCapacity(beams * vocab)

        while true {
            if hooks.isCancelled?() == true { cancelled = true; break }
            try session.step(running.flatMap { $0.map { $0.tokens.last! } })
            var parents = [Int](repeating: 0, count: session.batch)
            var allCandidatesEnd = true

            for p in 0..<prompts.count {
                // Accumulated log-probabilities of every (beam, token) continuation.
                candidates.removeAll(keepingCapacity: true)
                for b in 0..<beams {
                    let row = p * beams + b
                    try session.withMutableLogits(row: row) { scores in
                        logSoftmax(scores)
                        processing.applyPenalties(scores, sequence: running[p][b].tokens, generated: curLen - 1)
                        let base = running[p][b].score
                        for t in 0..<vocab {
                            let s = scores[t]
                            if s.isNaN { throw GenerationError.nonFiniteLogits(row: row, step: curLen - 1) }
                            candidates.append((s + base, b * vocab + t))
                        }
                    }
                }
                let top = topCandidates(&candidates, count: candidatesPerPrompt)
                let tops = top.map { c -> (hyp: Hypothesis, parent: Int, ends: Bool) in
                    let parent = c.index / vocab, token = c.index % vocab
                    var h = running[p][parent]
                    h.tokens.append(token)
                    h.score = c.score
                    return (h, parent, token == eos || curLen + 1 >= maxLength)
                }
                if tops.contains(where: { !$0.ends }) { allCandidatesEnd = false }

                // The best numBeams candidates that go on; ended ones are pushed down by -1e9.
                let continuing = tops.enumerated()
                    .map { (i, t) in (score: t.ends ? t.hyp.score + ruledOut : t.hyp.score, index: i) }
                var order = continuing
                let next = topCandidates(&order, count: beams)
                running[p] = next.map { var h = tops[$0.index].hyp; h.score = $0.score; return h }
                for (b, n) in next.enumerated() { parents[p * beams + b] = p * beams + tops[n.index].parent }

                // Candidates among the first numBeams that ended compete for the finished slots.
                let full = done[p].allSatisfy(\.finished) && options.earlyStopping == .always
                let divisor = Float(pow(Double(curLen), lengthPenalty))
                var merged: [(score: Float, hyp: Hypothesis)] = done[p].map { ($0.score, $0) }
                for (i, t) in tops.enumerated() {
                    let justFinished = t.ends && i < beams
                    var s = t.hyp.score / divisor
                    if full { s += ruledOut }
                    if !improvable[p] { s += ruledOut }
                    if !justFinished { s += ruledOut }
                    var h = t.hyp
                    h.score = s
                    h.finished = justFinished
                    merged.append((s, h))
                }
                var mergedOrder = merged.enumerated().map { (score: $0.element.score, index: $0.offset) }
                done[p] = topCandidates(&mergedOrder, count: beams).map { merged[$0.index].hyp }
            }

            try session.reorder(rows: parents)
            curLen += 1

            // Can a running beam still beat the worst finished one? (transformers' early-stop heuristic)
            for p in 0..<prompts.count where improvable[p] {
                let hypotheticalLength = options.earlyStopping == .never && lengthPenalty > 0 ? maxLength - 1 : curLen - 1
                let best = running[p][0].score / Float(pow(Double(hypotheticalLength), lengthPenalty))
                let worst = done[p].map(\.score).min() ?? ruledOut
                improvable[p] = done[p].contains { best > ($0.finished ? worst : ruledOut) }
            }
            let allFinished = done.allSatisfy { $0.allSatisfy(\.finished) }
            let openBeamExists = !(allFinished && options.earlyStopping == .always)
            if !(improvable.contains(true) && openBeamExists && !allCandidatesEnd) { break }
        }

        return done.enumerated().map { p, slots in
            let pick = cancelled && !slots.contains(where: \.finished) ? running[p] : slots
            return pick.prefix(options.numReturnSequences).map { h in
                let tokens = Array(h.tokens.dropFirst())
                let reason: FinishReason = cancelled ? .cancelled : (tokens.last == eos ? .eos : .length)
                return GeneratedSequence(tokens: tokens, finishReason: reason, score: h.score)
            }
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
