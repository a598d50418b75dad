// One test per defect the fuzz targets found, asserting the exact typed error that replaced it.
// The inputs are in Fixtures/fuzz-corpus/<target>/ (also replayed by ReliabilityFuzzCorpusTests).
import Foundation
import Testing
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
