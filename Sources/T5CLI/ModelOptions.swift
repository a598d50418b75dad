// Options shared by every subcommand that loads a model, and the CLI's error reporting.
import ArgumentParser
import Foundation
import T5Engine

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face T5 model folder (config.json + model.safetensors).")
    var model: String

    func load() throws -> T5Model {
        try T5Model(directory: URL(fileURLWithPath: model))
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
