// Entry point of the `t5` command-line tool: one subcommand per file in this folder.
import ArgumentParser
import Foundation

@main
struct T5Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t5",
        abstract: "T5 / Flan-T5 inference on the CPU.",
        subcommands: [GenerateCommand.self, TokenizeCommand.self, EvalCommand.self, BenchCommand.self,
                      ConvertCommand.self, TeacherForcedCommand.self]
    )

    /// Every failure, from a bad option to a corrupt checkpoint, ends as one line on stderr and a non-zero
    /// status; help and version still print in full on stdout.
    static func main() async {
        do {
            var command = try parseAsRoot()
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
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("t5: error: \(message)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
