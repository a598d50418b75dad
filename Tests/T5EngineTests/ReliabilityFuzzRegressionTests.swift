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
