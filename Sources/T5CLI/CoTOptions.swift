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
    @Option(name: .long, help: "Few-shot exemplars: JSON array or JSON lines of {question, reasoning, answer}; - reads standard input. Default: the model folder's exemplars.jsonl.")
    var exemplars: String?
    @Option(name: .long, parsing: .unconditional, help: "Sample K reasoning paths and return the majority answer (Wang et al. 2022).")
    var selfConsistency: Int = 1
    @Option(name: .long, parsing: .unconditional, help: "Most prompt tokens; few-shot exemplars are dropped to fit, the question is never cut.")
    var inputBudget: Int = 512

    func validate() throws {
        guard selfConsistency >= 1, selfConsistency <= 1024 else {
            throw ValidationError("--self-consistency must be between 1 and 1024, got \(selfConsistency)")
        }
        guard inputBudget >= 1 else { throw ValidationError("--input-budget must be >= 1, got \(inputBudget)") }
        guard CoTTemplate.named(cotTemplate) != nil else {
            throw ValidationError("--cot-template '\(cotTemplate)' is unknown; choose one of \(CoTTemplate.builtIn.map(\.name).joined(separator: ", "))")
        }
        if let exemplars, cot != .fewShot {
            throw ValidationError("--exemplars \(exemplars) is only used by few-shot prompting: add --cot few-shot")
        }
    }

    /// Whether answers are extracted (CoT or self-consistency).
    var reasons: Bool { cot != .none || selfConsistency > 1 }

    /// Whether `--exemplars -` reads standard input.
    var exemplarsFromStandardInput: Bool { exemplars == "-" }

    /// The exemplars `--exemplars` names (`-`: standard input), read and checked before any model is loaded;
    /// nil without the flag. Errors name the flag and the path.
    func readExemplars() throws -> [CoTExemplar]? {
        guard let path = exemplars, cot == .fewShot else { return nil }
        let data = try readInputFile(path, option: "--exemplars")
        do {
            return try CoTExemplar.parse(data, path: path)
        } catch let error as CoTError {
            throw InputError(message: "--exemplars \(error)")
        }
    }

    /// The prompting mode; few-shot uses `exemplars` (from `readExemplars()`), else the model folder's exemplars.jsonl.
    func mode(folder: ModelFolder, exemplars given: [CoTExemplar]?) throws -> CoTMode {
        switch cot {
        case .none: return .none
        case .zeroShot: return .zeroShot(CoTTemplate.named(cotTemplate)!)
        case .fewShot:
            if let given { return .fewShot(given) }
            guard let url = folder.exemplarsFile else {
                throw ValidationError("--cot few-shot needs --exemplars FILE: the model folder \(folder.directory.path) has no exemplars.jsonl")
            }
            do {
                return .fewShot(try CoTExemplar.load(from: url))
            } catch let error as CoTError {
                throw InputError(message: "the model folder's exemplars: \(error)")
            }
        }
    }

    /// Self-consistency samples at the library's defaults (`GenerationOptions.withSelfConsistencyDefaults()`:
    /// temperature 0.7, top-k 40, Wang et al. 2022) unless --temperature or --top-k says otherwise.
    func samplingDefaults(_ o: GenerationOptions, decoding: DecodingOptions) -> GenerationOptions {
        guard selfConsistency > 1 else { return o }
        var d = o.withSelfConsistencyDefaults()
        if decoding.temperature != nil { d.temperature = o.temperature }
        if decoding.topK != nil { d.topK = o.topK }
        return d
    }

    /// Whether decoding samples: --sample (or the model's do_sample), or self-consistency's sampled paths.
    func samples(_ o: GenerationOptions) -> Bool { o.doSample || selfConsistency > 1 }
}
