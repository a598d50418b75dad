// The request fuzz target's seeds (Fuzz/seeds/request) and a few hostile bodies, replayed by `swift test`.
import Foundation
import Testing

@Suite struct RequestFuzzTests {
    @Test func seedsAndHostileBodiesKeepTheInvariants() throws {
        let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/seeds/request")
        let files = (try? FileManager.default.contentsOfDirectory(at: seeds, includingPropertiesForKeys: nil)) ?? []
        #expect(files.count >= 5)
        var inputs = try files.map { try Data(contentsOf: $0) }
        inputs += [Data(), Data([0xFF, 0xFE]), Data(String(repeating: "[", count: 10_000).utf8),
                   Data(#"{"prompt": "x", "max_tokens": 99999999999999999999999}"#.utf8),
                   Data(#"{"prompt": "x", "temperature": 1e309}"#.utf8),
                   Data(#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}"#.utf8)]
        for input in inputs { try RequestFuzzEntry.check(input) }
    }
}
