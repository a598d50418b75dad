// `t5 generate`: run the model on a prompt and print the generated ids.
import ArgumentParser

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt."
    )

    func run() async throws {
        throw ValidationError("not implemented yet")
    }
}
