// Replays every committed fuzz input (Fuzz/seeds/<target> and Fixtures/fuzz-corpus/<target>, the regressions)
// through the same entry functions the libFuzzer binary runs, so a fixed crash stays fixed in plain `swift test`.
import Foundation
import Testing
@testable import T5Engine

@Suite struct ReliabilityFuzzCorpusTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(_ folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { folder.appendingPathComponent($0) }
    }

    static func seeds(_ target: FuzzTarget) -> [URL] {
        files(repoRoot.appendingPathComponent("Fuzz/seeds/\(target.rawValue)"))
    }

    static func regressions(_ target: FuzzTarget) -> [URL] {
        files(repoRoot.appendingPathComponent("Tests/T5EngineTests/Fixtures/fuzz-corpus/\(target.rawValue)"))
    }

    /// Every input: no crash (the test process would die), no broken invariant, and a rejection is the domain's typed error.
    @Test(arguments: FuzzTarget.allCases)
    func committedInputsGiveAResultOrATypedError(_ target: FuzzTarget) throws {
        let inputs = Self.seeds(target) + Self.regressions(target)
        #expect(!Self.seeds(target).isEmpty, "no seeds for \(target.rawValue)")
        for url in inputs {
            let outcome = try target.run(Data(contentsOf: url))
            if case .rejected(let error) = outcome {
                #expect(target.isExpected(error), "\(url.lastPathComponent): \(type(of: error)) \(error)")
                // A message that names the problem, not an empty description.
                #expect(!"\(error)".isEmpty)
            }
        }
    }

    /// The seeds are valid files, so the fuzzer starts from deep paths; two encode-decode seeds are deliberately
    /// not UTF-8 (the "ids" one is Int32s, for the decode half).
    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        for url in Self.seeds(target) where !["invalid-utf8", "ids"].contains(url.lastPathComponent) {
            let outcome = try target.run(Data(contentsOf: url))
            guard case .accepted = outcome else {
                Issue.record("seed \(target.rawValue)/\(url.lastPathComponent) was rejected: \(outcome)")
                continue
            }
        }
    }
}
