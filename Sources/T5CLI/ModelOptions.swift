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

    /// The model folder, read once: model, tokenizer, generation defaults, exemplars.
    func loadFolder() throws -> ModelFolder {
        try ModelFolder(directory: directory(), runtime: runtime())
    }

    func loadModel() throws -> T5Model {
        try T5Model(directory: directory(), runtime: runtime())
    }
}

func milliseconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) * 1000 + Double(atto) / 1e15
}

/// One compact JSON object with sorted keys, for `--json` outputs.
func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// Writes to stdout without buffering delays (streamed tokens must appear as they come).
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// The JSON objects of a JSON-lines file, with their 1-based line numbers; blank lines are skipped.
/// `option` names the flag in errors ("--batch-file in.jsonl:3: …").
func readJSONLines(_ path: String, option: String) throws -> [(line: Int, object: [String: Any])] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(option) \(path): cannot read it") }
    var out: [(Int, [String: Any])] = []
    for (n, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw ValidationError("\(option) \(path):\(n + 1): not a JSON object")
        }
        out.append((n + 1, object))
    }
    return out
}
