// Logits processors and samplers on crafted scores, against hand-computed expectations.
import Foundation
import Testing
@testable import T5Generation
@testable import T5Engine

@Suite struct LogitsProcessingTests {
    func process(_ scores: [Float], _ edit: (inout GenerationOptions) -> Void, sequence: [Int] = [0], generated: Int = 0,
                 warp: Bool = false) -> [Float] {
        var options = GenerationOptions()
        edit(&options)
        // Warpers apply only when sampling; the list is built from the options as the strategies build it.
        if warp { options.doSample = true }
        var penalties = LogitsProcessorList.penalties(for: options, eos: 1)
        var warpers = LogitsProcessorList.warpers(for: options)
        var s = scores
        s.withUnsafeMutableBufferPointer { buffer in
            let context = LogitsContext(sequence: sequence, generated: generated)
            penalties.process(buffer, context: context)
            if warp { warpers.process(buffer, context: context) }
        }
        return s
    }

    @Test func repetitionPenaltyDividesPositiveAndMultipliesNegative() {
        let out = process([2, -2, 4, 3], { $0.repetitionPenalty = 2 }, sequence: [0, 1, 1])
        #expect(out == [1, -4, 4, 3])   // tokens 0 and 1 once each, even though 1 repeats
    }

    @Test func noRepeatNgramBansCompletions() {
        // Sequence 5 6 7 5 6: the bigram prefix "6" was followed by 7 → 7 banned for n=2.
        let out = process(Array(repeating: 0, count: 8), { $0.noRepeatNgramSize = 2 }, sequence: [5, 6, 7, 5, 6])
        #expect(out[7] == -.infinity)
        #expect(out.filter { $0 == -.infinity }.count == 1)
        // n=3: prefix "5 6" was followed by 7.
        let out3 = process(Array(repeating: 0, count: 8), { $0.noRepeatNgramSize = 3 }, sequence: [5, 6, 7, 5, 6])
        #expect(out3[7] == -.infinity && out3.filter { $0 == -.infinity }.count == 1)
        // Too short to hold an n-gram: nothing banned.
        let short = process(Array(repeating: 0, count: 8), { $0.noRepeatNgramSize = 3 }, sequence: [5])
        #expect(!short.contains(-.infinity))
        let almost = process(Array(repeating: 0, count: 8), { $0.noRepeatNgramSize = 3 }, sequence: [5, 6])
        #expect(!almost.contains(-.infinity))
    }

    @Test func controlProcessorsOnCraftedScores() {
        // Suppressed everywhere; begin-suppressed only at the first step.
        #expect(process([1, 2, 3, 4], { $0.suppressTokens = [1, 3] }) == [1, -.infinity, 3, -.infinity])
        #expect(process([1, 2, 3, 4], { $0.beginSuppressTokens = [2] }, generated: 0) == [1, 2, -.infinity, 4])
        #expect(process([1, 2, 3, 4], { $0.beginSuppressTokens = [2] }, generated: 1) == [1, 2, 3, 4])
        // Bad words: [3] always, [2, 0] after a 2; a lone EOS (1) is dropped as transformers does.
        let words: (inout GenerationOptions) -> Void = { $0.badWordsIds = [[3], [2, 0], [1]] }
        #expect(process([1, 2, 3, 4], words, sequence: [0, 2]) == [-.infinity, 2, 3, -.infinity])
        #expect(process([1, 2, 3, 4], words, sequence: [0, 1]) == [1, 2, 3, -.infinity])
        // Sequence bias: one-token always, two-token when the prefix matches; matching biases add up.
        let bias: (inout GenerationOptions) -> Void = {
            $0.sequenceBias = [SequenceBias(tokens: [0], bias: 1), SequenceBias(tokens: [2, 0], bias: 0.5),
                               SequenceBias(tokens: [3], bias: -1), SequenceBias(tokens: [3], bias: -2)]
        }
        #expect(process([1, 2, 3, 4], bias, sequence: [0, 2]) == [2.5, 2, 3, 2])
        #expect(process([1, 2, 3, 4], bias, sequence: [0, 3]) == [2, 2, 3, 2])
        // Forced EOS at the last allowed step only.
        #expect(process([1, 2, 3], { $0.forcedEOS = true; $0.maxNewTokens = 4 }, generated: 3) == [-.infinity, 0, -.infinity])
        #expect(process([1, 2, 3], { $0.forcedEOS = true; $0.maxNewTokens = 4 }, generated: 2) == [1, 2, 3])
    }

    @Test func minNewTokensForbidsEOS() {
        #expect(process([0, 5, 1], { $0.minNewTokens = 2 }, generated: 1)[1] == -.infinity)
        #expect(process([0, 5, 1], { $0.minNewTokens = 2 }, generated: 2)[1] == 5)
    }

    @Test func topKKeepsKBestAndTies() {
        let out = process([1, 5, 3, 5, 2], { $0.topK = 2 }, warp: true)
        #expect(out == [-.infinity, 5, -.infinity, 5, -.infinity])
        let three = process([1, 5, 3, 4, 2], { $0.topK = 3 }, warp: true)
        #expect(three == [-.infinity, 5, 3, 4, -.infinity])
    }

    @Test func topPKeepsTheNucleus() {
        // Probabilities 0.5, 0.25, 0.125, 0.125 (log scale): top-p 0.7 keeps the two best.
        let scores: [Float] = [log(0.5), log(0.25), log(0.125), log(0.125)]
        let out = process(scores, { $0.topK = 0; $0.topP = 0.7 }, warp: true)
        #expect(out[0] == scores[0] && out[1] == scores[1])
        #expect(out[2] == -.infinity && out[3] == -.infinity)
        // A tiny top-p still keeps the single best token.
        let one = process(scores, { $0.topK = 0; $0.topP = 0.01 }, warp: true)
        #expect(one.filter { $0 > -.infinity }.count == 1 && one[0] == scores[0])
    }

    @Test func temperatureScales() {
        #expect(process([2, 4], { $0.temperature = 2; $0.topK = 0 }, warp: true) == [1, 2])
    }

    @Test func samplingStaysInSupportAndFollowsSeed() {
        var scores: [Float] = [0, 0, -.infinity, 0, -.infinity]
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        var drawsA = [Int](), drawsB = [Int](), drawsC = [Int]()
        scores.withUnsafeMutableBufferPointer { s in
            for _ in 0..<200 {
                drawsA.append(sample(s, using: &a)!)
                drawsB.append(sample(s, using: &b)!)
                drawsC.append(sample(s, using: &c)!)
            }
        }
        #expect(drawsA == drawsB)
        #expect(drawsA != drawsC)
        #expect(Set(drawsA) == [0, 1, 3])
    }

    @Test func samplingFrequenciesFollowProbabilities() {
        var scores: [Float] = [log(0.7), log(0.2), log(0.1)]
        var g = SeededGenerator(seed: 1)
        var counts = [0, 0, 0]
        scores.withUnsafeMutableBufferPointer { s in
            for _ in 0..<20000 { counts[sample(s, using: &g)!] += 1 }
        }
        #expect(abs(Double(counts[0]) / 20000 - 0.7) < 0.02)
        #expect(abs(Double(counts[2]) / 20000 - 0.1) < 0.02)
    }

    @Test func argmaxTakesFirstOnTiesAndRefusesNaN() {
        [1, 3, 3, 2].map(Float.init).withUnsafeBufferPointer { #expect(argmax($0) == 1) }
        [1, .nan, 3].withUnsafeBufferPointer { (b: UnsafeBufferPointer<Float>) in #expect(argmax(b) == nil) }
    }

    /// The vector argmax (AVX-512 machines) against a plain loop, on vocabulary-sized rows and on the lengths around its
    /// 16-wide blocks: ties inside and across blocks and in the tail, a NaN anywhere, all -inf, signed zeros.
    @Test func argmaxMatchesAPlainLoopAtEveryLength() {
        func plain(_ v: [Float]) -> Int? {
            if v.contains(where: \.isNaN) { return nil }
            var best = 0
            for i in v.indices where v[i] > v[best] { best = i }
            return best
        }
        var rng = SystemRandomNumberGenerator()
        var cases: [[Float]] = [[], [-.infinity, -.infinity, -.infinity], [-0.0, 0.0, 0.0], [0.0, -0.0]]
        for n in [1, 2, 15, 16, 17, 31, 32, 33, 47, 32128] {
            // Few distinct values, so the maximum is tied often.
            let v = (0..<n).map { _ in Float(Int.random(in: 0..<7, using: &rng)) }
            cases.append(v)
            var withNaN = v
            withNaN[Int.random(in: 0..<n, using: &rng)] = .nan
            cases.append(withNaN)
            var lastMax = v.map { $0 - 10 }
            lastMax[n - 1] = 100
            cases.append(lastMax)
            cases.append((0..<n).map { _ in Float.random(in: -30...30, using: &rng) })
        }
        for v in cases {
            #expect(v.withUnsafeBufferPointer { argmax($0) } == (v.isEmpty ? 0 : plain(v)), "\(v.count) values")
        }
    }

    @Test func logSoftmaxNormalises() {
        var x: [Float] = [1, 2, 3]
        x.withUnsafeMutableBufferPointer { logSoftmax($0) }
        let total = x.map { exp(Double($0)) }.reduce(0, +)
        #expect(abs(total - 1) < 1e-6)
        #expect(abs(x[2] - x[1] - 1) < 1e-6)
    }
}

@Suite struct GenerationOptionsTests {
    @Test func absurdOptionsAreNamed() {
        func check(_ name: String, _ edit: (inout GenerationOptions) -> Void) {
            var o = GenerationOptions()
            edit(&o)
            #expect {
                try o.validate()
            } throws: { error in
                guard case GenerationError.invalidOption(let n, _, _) = error else { return false }
                return n == name
            }
        }
        check("maxNewTokens") { $0.maxNewTokens = -1 }
        check("maxNewTokens") { $0.maxNewTokens = 1_000_000_000 }
        check("minNewTokens") { $0.minNewTokens = 100; $0.maxNewTokens = 10 }
        check("numBeams") { $0.numBeams = 0 }
        check("temperature") { $0.temperature = -1 }
        check("temperature") { $0.temperature = 0 }
        check("topP") { $0.topP = 0 }
        check("topP") { $0.topP = 1.5 }
        check("topK") { $0.topK = -3 }
        check("repetitionPenalty") { $0.repetitionPenalty = 0 }
        check("numReturnSequences") { $0.numBeams = 2; $0.numReturnSequences = 3 }
        check("numReturnSequences") { $0.numReturnSequences = 2 }
        check("noRepeatNgramSize") { $0.noRepeatNgramSize = -1 }
        check("stopStrings") { $0.stopStrings = [""] }
        check("doSample") { $0.numBeams = 2; $0.doSample = true }
        check("suppressTokens") { $0.suppressTokens = [3, -1] }
        check("beginSuppressTokens") { $0.beginSuppressTokens = [-2] }
        check("badWordsIds") { $0.badWordsIds = [[]] }
        check("sequenceBias") { $0.sequenceBias = [SequenceBias(tokens: [3], bias: .nan)] }
        check("sequenceBias") { $0.sequenceBias = [SequenceBias(tokens: [], bias: 1)] }
        check("maxPromptTokens") { $0.maxPromptTokens = 0 }
    }

    @Test func generationConfigFileSetsDefaults() throws {
        let json = """
        {"decoder_start_token_id": 0, "eos_token_id": [1], "pad_token_id": 0, "max_length": 30,
         "num_beams": 4, "early_stopping": "never", "length_penalty": 0.6, "no_repeat_ngram_size": 3}
        """
        let file = try JSONDecoder().decode(GenerationConfigFile.self, from: Data(json.utf8))
        let o = file.apply()
        #expect(o.maxNewTokens == 29 && o.numBeams == 4 && o.earlyStopping == .never)
        #expect(o.lengthPenalty == 0.6 && o.noRepeatNgramSize == 3 && o.eosTokenId == 1)
        let control = """
        {"eos_token_id": 1, "suppress_tokens": [5, 6], "begin_suppress_tokens": [7], "bad_words_ids": [[8, 9]],
         "forced_eos_token_id": 1}
        """
        let c = try JSONDecoder().decode(GenerationConfigFile.self, from: Data(control.utf8)).apply()
        #expect(c.suppressTokens == [5, 6] && c.beginSuppressTokens == [7] && c.badWordsIds == [[8, 9]] && c.forcedEOS)
        let bad = Data(#"{"early_stopping": "sometimes"}"#.utf8)
        #expect(throws: GenerationError.self) { _ = try JSONDecoder().decode(GenerationConfigFile.self, from: bad) }
    }
}
