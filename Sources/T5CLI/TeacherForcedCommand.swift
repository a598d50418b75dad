// `t5 teacher-forced`: feeds given target ids step by step and prints the model's top-1 id at every step,
// to measure how often a converted (e.g. int8) model agrees with the original under identical prefixes.
import ArgumentParser
import Foundation
import T5Engine

struct TeacherForcedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teacher-forced",
        abstract: "Print the top-1 id at every step while feeding reference target ids.",
        discussion: """
            --input is a JSON object {"prompts": [[ids]], "targets": [[ids]]} (e.g. Scripts/make_fixtures.py's \
            --large references: "prompts" and "single"[i]["greedy_ids"] are accepted too). Step t feeds the \
            decoder start token then targets[0..<t]; the output is {"argmax": [[ids]]}, one id per target position.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "JSON file with prompts and target ids.")
    var input: String

    func run() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let prompts = object["prompts"] as? [[Int]]
        else { throw ValidationError("\(input): expected a JSON object with \"prompts\"") }
        let targets: [[Int]]
        if let t = object["targets"] as? [[Int]] {
            targets = t
        } else if let single = object["single"] as? [[String: Any]] {
            targets = single.compactMap { $0["greedy_ids"] as? [Int] }
        } else {
            throw ValidationError("\(input): expected \"targets\" or \"single\"[i][\"greedy_ids\"]")
        }
        guard targets.count == prompts.count else { throw ValidationError("\(input): prompts and targets differ in count") }
        let model = try modelOptions.loadModel()
        var result: [[Int]] = []
        for (prompt, target) in zip(prompts, targets) where !target.isEmpty {
            let session = try DecodingSession(model: model, prompts: [prompt], maxSteps: target.count)
            var ids: [Int] = []
            var token = model.config.decoderStartTokenId
            for t in 0..<target.count {
                try session.step([token])
                guard let best = session.withLogits(row: 0, argmax) else {
                    throw GenerationError.nonFiniteLogits(row: 0, step: t)
                }
                ids.append(best)
                token = target[t]
            }
            result.append(ids)
        }
        print(try jsonLine(["argmax": result]))
    }
}
