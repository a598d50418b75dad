// Chain-of-thought flags shared by `t5 generate` and `t5 eval`.
import ArgumentParser
import Foundation
import T5Engine

enum CoTKind: String, ExpressibleByArgument, CaseIterable {
    case none
    case zeroShot = "zero-shot"
    case fewShot = "few-shot"
}

struct CoTOptions: ParsableArguments {
    @Option(name: .long, help: "Chain-of-thought prompting: none, zero-shot or few-shot.")
    var cot: CoTKind = .none
    @Option(name: .long, help: "Zero-shot trigger template: \(CoTTemplate.builtIn.map(\.name).joined(separator: ", ")).")
    var cotTemplate: String = CoTTemplate.default.name
    @Option(name: .long, help: "Few-shot exemplars: JSON array or JSON lines of {question, reasoning, answer}. Default: the model folder's exemplars.jsonl.")
    var exemplars: String?
    @Option(name: .long, help: "Sample K reasoning paths and return the majority answer (Wang et al. 2022).")
    var selfConsistency: Int = 1
    @Option(name: .long, help: "Most prompt tokens; few-shot exemplars are dropped to fit, the question is never cut.")
    var inputBudget: Int = 512

    func validate() throws {
        guard selfConsistency >= 1, selfConsistency <= 1024 else {
            throw ValidationError("--self-consistency must be between 1 and 1024, got \(selfConsistency)")
        }
        guard inputBudget >= 1 else { throw ValidationError("--input-budget must be >= 1, got \(inputBudget)") }
        guard CoTTemplate.named(cotTemplate) != nil else {
            throw ValidationError("--cot-template '\(cotTemplate)' is unknown; choose one of \(CoTTemplate.builtIn.map(\.name).joined(separator: ", "))")
        }
        if exemplars != nil && cot != .fewShot { throw ValidationError("--exemplars needs --cot few-shot") }
    }

    /// Whether answers are extracted (CoT or self-consistency).
    var reasons: Bool { cot != .none || selfConsistency > 1 }

    func mode(folder: ModelFolder) throws -> CoTMode {
        switch cot {
        case .none: return .none
        case .zeroShot: return .zeroShot(CoTTemplate.named(cotTemplate)!)
        case .fewShot:
            guard let url = exemplars.map({ URL(fileURLWithPath: $0) }) ?? folder.exemplarsFile else {
                throw ValidationError("--cot few-shot needs --exemplars FILE (no exemplars.jsonl in \(folder.directory.path))")
            }
            return .fewShot(try CoTExemplar.load(from: url))
        }
    }

    /// Self-consistency samples; Wang et al. used temperature 0.7 and top-k 40 unless told otherwise.
    func samplingDefaults(_ o: GenerationOptions, decoding: DecodingOptions) -> GenerationOptions {
        guard selfConsistency > 1 else { return o }
        var o = o
        if decoding.temperature == nil { o.temperature = 0.7 }
        if decoding.topK == nil { o.topK = 40 }
        return o
    }
}
