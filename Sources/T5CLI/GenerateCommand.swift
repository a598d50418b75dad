// `t5 generate`: run the model on a prompt and print what it generates.
import ArgumentParser
import Foundation
import T5Engine

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate from a prompt with greedy decoding."
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Prompt as comma-separated token ids, e.g. \"13959,1566,12,1\".")
    var ids: String

    @Option(name: .long, help: "Most tokens to generate (EOS included).")
    var maxNewTokens: Int = 64

    @Flag(name: .long, help: "Print one JSON object instead of plain ids.")
    var json = false

    func validate() throws {
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be >= 0, got \(maxNewTokens)") }
        _ = try parseIds(ids)
    }

    func run() async throws {
        let prompt = try parseIds(ids)
        let start = ContinuousClock.now
        let t5 = try model.load()
        let loaded = ContinuousClock.now
        let output = try t5.generateGreedy(prompts: [prompt], maxNewTokens: maxNewTokens)[0]
        let done = ContinuousClock.now
        if json {
            let finish = output.last == t5.config.eosTokenId ? "eos" : "length"
            let object: [String: Any] = [
                "ids": output,
                "prompt_ids": prompt,
                "finish_reason": finish,
                "load_ms": milliseconds(loaded - start),
                "generate_ms": milliseconds(done - loaded),
            ]
            print(try jsonLine(object))
        } else {
            print(output.map(String.init).joined(separator: ","))
        }
    }
}

/// Parses "1,2,3" (spaces allowed) into token ids, naming the bad piece on failure.
func parseIds(_ text: String) throws -> [Int] {
    let pieces = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !pieces.isEmpty else { throw ValidationError("--ids is empty: give at least one token id") }
    return try pieces.map { piece in
        guard let id = Int(piece), id >= 0 else { throw ValidationError("--ids: '\(piece)' is not a token id") }
        return id
    }
}
