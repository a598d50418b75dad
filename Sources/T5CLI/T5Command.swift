// Entry point of the `t5` command-line tool: one subcommand per file in this folder.
import ArgumentParser
import Foundation
import T5Engine

@main
struct T5Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t5",
        abstract: "T5 / Flan-T5 inference on the CPU.",
        version: T5Version.report,
        subcommands: [GenerateCommand.self, TokenizeCommand.self, EvalCommand.self, BenchCommand.self,
                      ConvertCommand.self, TeacherForcedCommand.self, ScoreCommand.self, ServeCommand.self]
    )

    /// Every failure, from a bad option to a corrupt checkpoint, ends as one line on stderr and a non-zero
    /// status; help, version and completion scripts still print in full on stdout.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let message = unknownSubcommandMessage(arguments) { fail(message, status: ExitCode.validationFailure.rawValue) }
        let missing = SystemInfo.missingCPUFeatures
        if !missing.isEmpty {
            fail("this t5 was built for \(SystemInfo.simdTarget), but this CPU lacks \(missing.joined(separator: ", ")); "
                 + "reinstall with `Scripts/install.sh --target-cpu baseline`", status: 1)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if error is ExitCode { Foundation.exit(code.rawValue) }
            fail(message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)", status: code.rawValue)
        }
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("t5: error: \(message)\n".utf8))
        Foundation.exit(status)
    }

    /// The error for a first word that names no subcommand (ArgumentParser reports it as "unexpected arguments"), with
    /// the closest subcommand when one is close: `unknown subcommand 'generat'; did you mean 'generate'?`.
    static func unknownSubcommandMessage(_ arguments: [String]) -> String? {
        guard let word = arguments.first, !word.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if names.contains(word) { return nil }
        let ranked = names.map { (name: $0, distance: editDistance(word.lowercased(), $0)) }
            .sorted { $0.distance < $1.distance }
        // Close: a third of the name's letters or fewer changed (at least one), or a prefix of 3+ letters.
        let close = ranked.filter { $0.distance <= max(1, $0.name.count / 3) }.first?.name
            ?? (word.count >= 3 ? names.first { $0.hasPrefix(word.lowercased()) } : nil)
        if let close { return "unknown subcommand '\(word)'; did you mean '\(close)'?" }
        return "unknown subcommand '\(word)'; the subcommands are \(names.dropLast().joined(separator: ", ")) (see 't5 --help')"
    }

    /// Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
