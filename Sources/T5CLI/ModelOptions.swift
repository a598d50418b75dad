// Options shared by every subcommand that loads a model: where it is, and how many threads to use.
import ArgumentParser
import Foundation
import T5Engine

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face T5 model folder (config.json + model.safetensors). Default: the demo model shipped in Models/.")
    var model: String?

    @Option(name: .long, help: "Threads for every matrix product: the engine's decode kernels and OpenBLAS (the encoder). Default: one per core.")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be between 1 and 1024, got \(threads)") }
    }

    /// The folder to load: `--model`, else the shipped demo model found from the working directory or the executable.
    func directory() throws -> URL {
        if let model { return URL(fileURLWithPath: model) }
        let relative = "Models/demo-t5"
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative)]
        // .build/<config>/t5 or .build/<triple>/<config>/t5 inside the package.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent(relative))
            dir = dir.deletingLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) {
            return found
        }
        throw ValidationError("no --model given and no shipped model found at \(relative); pass --model DIR")
    }

    /// The runtime `--threads` asks for; OpenBLAS (process-wide) gets the same count.
    func runtime() -> T5Runtime {
        guard let threads else { return .shared }
        T5Runtime.setBLASThreads(threads)
        return T5Runtime(threads: threads)
    }

    /// The model folder, read once: model, tokenizer (unless `tokenizer` is false), generation defaults, exemplars.
    func loadFolder(tokenizer: Bool = true) throws -> ModelFolder {
        try ModelFolder(directory: directory(), runtime: runtime(), tokenizer: tokenizer)
    }

    func loadModel() throws -> T5Model {
        try T5Model(directory: directory(), runtime: runtime())
    }
}
