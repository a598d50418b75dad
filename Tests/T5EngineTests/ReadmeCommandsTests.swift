// The README's command lines run as written: each `t5 …` line of its shell blocks is run from the repository root
// against the built executable, and the quick start's printed output is compared with what the command prints.
import Foundation
import Testing

@Suite struct ReadmeCommandsTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The lines of every ```sh block of the README, in order.
    static func shellLines() throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var lines: [String] = [], inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inBlock = !inBlock && line == "```sh"; continue }
            if inBlock, !line.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(line) }
        }
        return lines
    }

    /// A README line without its trailing `  # comment`.
    static func command(_ line: String) -> String {
        guard let r = line.range(of: "  #") else { return line }
        return String(line[..<r.lowerBound]).trimmingCharacters(in: .whitespaces)
    }

    /// Lines that call `t5` (directly, in a pipe, or as `.build/release/t5`); builds and installs are not run here.
    static func t5Lines() throws -> [String] {
        try shellLines().map(command).filter { line in
            let words = line.split(separator: " ").map(String.init)
            return words.contains("t5") || words.contains(".build/release/t5")
                || line.contains("t5 tokenize") || line.hasPrefix("t5 ")
        }.filter { !$0.hasPrefix("swift ") && !$0.hasPrefix("bash ") && !$0.contains("swift run") }
    }

    /// Runs `line` with bash from the repository root; `t5` and `.build/release/t5` are the built executable.
    /// `.build/release/t5 bench` lines are meant for a release build: here (a debug build) they run with a small
    /// workload appended (the last value of an option wins), which still checks that every option they give parses.
    static func run(_ line: String) throws -> CLIResult {
        let t5 = CLI.executable().path
        var line = line
        if line.hasPrefix(".build/release/t5 bench") {
            line += " --prompt-len 16 --new-tokens 4 --warmup 0 --reps 1"
        }
        let script = "set -o pipefail; t5() { \"\(t5)\" \"$@\"; }; "
            + line.replacingOccurrences(of: ".build/release/t5 ", with: "t5 ")
        return try runProcess(URL(fileURLWithPath: "/bin/bash"), ["-c", script], in: root)
    }

    @Test func theReadmeHasCommandLinesToRun() throws {
        let lines = try Self.t5Lines()
        #expect(lines.count >= 12, "\(lines)")
        #expect(lines.contains { $0.contains("--batch-file -") } && lines.contains { $0.contains("bench") })
    }

    @Test(arguments: try ReadmeCommandsTests.t5Lines())
    func runsAsWritten(_ line: String) throws {
        let r = try Self.run(line)
        #expect(r.status == 0, "\(line)\n→ exit \(r.status): \(r.stderr)")
        #expect(!r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(line) printed nothing")
    }

    /// The quick start prints exactly what the README says it prints.
    @Test func quickStartPrintsWhatTheReadmeShows() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = try Self.shellLines()
        let quickStart = try #require(lines.first { $0.contains("swift run -c release t5 generate") })
        let invocation = String(quickStart[quickStart.range(of: "t5 generate")!.lowerBound...])
        let printed = try #require(text.components(separatedBy: "The first command prints\n\n```\n").dropFirst().first?
            .components(separatedBy: "```").first)
        let r = try Self.run(invocation)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == printed)
    }
}
