// One test per defect the fuzz targets found, asserting the exact typed error that replaced it.
// The inputs are in Fixtures/fuzz-corpus/<target>/ (also replayed by ReliabilityFuzzCorpusTests).
import Foundation
import Testing
@testable import T5Modeling
@testable import T5Engine

@Suite struct ReliabilityFuzzRegressionTests {
    static func corpusFile(_ target: FuzzTarget, _ name: String) throws -> Data {
        try Data(contentsOf: ReliabilityFuzzCorpusTests.repoRoot
            .appendingPathComponent("Tests/T5EngineTests/Fixtures/fuzz-corpus/\(target.rawValue)/\(name)"))
    }

    /// tokenizer-json: a TemplateProcessing special token's `ids` were appended to every encoding unchecked, so
    /// `encode` returned ids outside the vocabulary (-7, 99999), which only the model's prompt check then caught.
    @Test(arguments: [("template-id-negative.json", -7), ("template-id-past-vocabulary.json", 99999)])
    func templateIdsOutsideTheVocabularyAreRefusedAtLoad(_ file: String, _ id: Int) throws {
        let data = try Self.corpusFile(.tokenizerJSON, file)
        #expect(throws: TokenizerError.malformedTokenizerJSON(
            path: "bad.json", reason: "template token </s> has id \(id), outside the vocabulary 0..<48")) {
            _ = try T5Tokenizer(tokenizerJSON: data, source: "bad.json")
        }
    }
}

/// Found reviewing the other hostile parser in a model folder, generation_config.json (no fuzz target yet).
@Suite struct ReliabilityGenerationConfigTests {
    /// `max_length` / `min_length` of Int.min made `apply()` compute Int.min - 1: an overflow trap that killed
    /// the process while loading the folder. Now they clamp to 0 new tokens, like any max_length <= 1.
    @Test func extremeMaxAndMinLengthDoNotTrap() throws {
        let json = #"{"max_length": -9223372036854775808, "min_length": -9223372036854775808}"#
        let file = try JSONDecoder().decode(GenerationConfigFile.self, from: Data(json.utf8))
        let o = file.apply()
        #expect(o.maxNewTokens == 0 && o.minNewTokens == 0)
        let huge = try JSONDecoder().decode(GenerationConfigFile.self, from: Data(#"{"max_length": 9223372036854775807}"#.utf8))
        #expect(huge.apply().maxNewTokens == Int.max - 1)
        // …which validation then refuses with a message, instead of sizing a cache from it.
        #expect(throws: GenerationError.invalidOption(name: "maxNewTokens", value: "\(Int.max - 1)",
                                                      reason: "must be <= \(GenerationOptions.maxNewTokensLimit)")) {
            try huge.apply().validate()
        }
    }

    /// The same through a model folder: loading succeeds, and a request with those defaults is refused, typed.
    @Test func modelFolderWithHostileGenerationConfig() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5-genconfig-\(UUID())")
        try FileManager.default.copyItem(at: Fixtures.modelDirectory("v11-gated"), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"max_length": -9223372036854775808, "num_beams": -5}"#.utf8)
            .write(to: dir.appendingPathComponent("generation_config.json"))
        let model = try T5Model(directory: dir)
        let defaults = try #require(try GenerationConfigFile.load(directory: dir)).apply()
        let g = T5Generator(model: model, tokenizer: ByteTokenizer(), defaultOptions: defaults)
        await #expect(throws: GenerationError.invalidOption(name: "numBeams", value: "-5", reason: "must be between 1 and 256")) {
            _ = try await g.generate(prompt: "hi")
        }
        try Data(#"{"max_length": "ten"}"#.utf8).write(to: dir.appendingPathComponent("generation_config.json"))
        #expect(throws: ConfigError.self) { _ = try GenerationConfigFile.load(directory: dir) }
    }
}

/// config: `relative_attention_num_buckets` 2 or 3 and `relative_attention_max_distance` at or below
/// buckets / 2 passed validation, but the decoder's bucket formula then divided by zero (NaN → Int: a trap at the
/// first forward pass) or went negative (bucket -99 for distance 1000 with 32 buckets and max distance 9: a read
/// before the bias table). Found by reading the formula against the check, pinned by the config target's new
/// bucket-range invariant; inputs in Fixtures/fuzz-corpus/config/.
@Suite struct ReliabilityRelativeBucketTests {
    @Test(arguments: [
        ("buckets-2-nan-bucket.json", "relative_attention_num_buckets", "2", "4...4096"),
        ("max-distance-below-decoder-max-exact.json", "relative_attention_max_distance", "9", "> relative_attention_num_buckets / 2"),
        ("max-distance-equal-decoder-max-exact.json", "relative_attention_max_distance", "16", "> relative_attention_num_buckets / 2"),
    ])
    func configsWhoseBucketsLeaveTheTableAreRefused(_ file: String, _ field: String, _ value: String, _ allowed: String) throws {
        let data = try ReliabilityFuzzRegressionTests.corpusFile(.config, file)
        #expect(throws: ConfigError.outOfRange(path: "config.json", field: field, value: value, allowed: allowed)) {
            _ = try T5Config.decode(data)
        }
    }

    /// Every bucket count and max distance the check now admits (up to 64 buckets) keeps every position in the table.
    @Test func everyAcceptedSmallConfigKeepsBucketsInRange() {
        for buckets in 4...64 {
            for maxDistance in (buckets / 2 + 1)...(buckets * 4) {
                for bidirectional in [true, false] {
                    for position in [-100_000, -1000, -129, -65, -17, -9, -3, -1, 0, 1, 3, 9, 17, 65, 129, 1000, 100_000] {
                        let b = relativePositionBucket(position, bidirectional: bidirectional, numBuckets: buckets, maxDistance: maxDistance)
                        if b < 0 || b >= buckets {
                            Issue.record("buckets \(buckets), max \(maxDistance), position \(position) → \(b)")
                            return
                        }
                    }
                }
            }
        }
    }

    /// What the old check let through, shown on the formula itself.
    @Test func theOldBoundaryProducedANegativeDecoderBucket() {
        #expect(relativePositionBucket(-1000, bidirectional: false, numBuckets: 32, maxDistance: 9) < 0)
    }
}

/// numReturnSequences had no upper bound when sampling. Int.max with 2 prompts overflowed `batch * rowsPerPrompt`
/// (a trap) before the memory check, and 10^9 with max new tokens 0 built 10^9 empty results per prompt (an
/// out-of-memory kill). Found reviewing how options size allocations; now capped like numBeams.
@Suite struct ReliabilityReturnSequencesTests {
    @Test(arguments: [(Int.max, 4), (1_000_000_000, 0), (1025, 4)])
    func hugeNumReturnSequencesIsRefused(_ count: Int, _ maxNewTokens: Int) throws {
        let model = try Fixtures.model("v11-gated")
        var o = GenerationOptions(); o.doSample = true; o.numReturnSequences = count; o.maxNewTokens = maxNewTokens
        #expect(throws: GenerationError.invalidOption(name: "numReturnSequences", value: "\(count)", reason: "must be between 1 and 1024")) {
            _ = try model.generate(prompts: [[5, 1], [6, 1]], options: o)
        }
    }

    @Test func theCapItselfIsAccepted() throws {
        let model = try Fixtures.model("v11-gated")
        var o = GenerationOptions(); o.doSample = true; o.numReturnSequences = 1024; o.maxNewTokens = 1; o.seed = 1
        #expect(try model.generate(prompts: [[5, 1]], options: o)[0].count == 1024)
    }
}
