// Entry point of the `t5` command-line tool: one subcommand per file in this folder.
import ArgumentParser

@main
struct T5Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "t5",
        abstract: "T5 / Flan-T5 inference on the CPU.",
        subcommands: [GenerateCommand.self, TokenizeCommand.self]
    )
}
