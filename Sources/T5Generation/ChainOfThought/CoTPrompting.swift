// Chain-of-thought prompts in the style Flan-T5 was fine-tuned on: a zero-shot trigger, or few-shot exemplars.
import Foundation

/// A zero-shot trigger. `{question}` marks where the question goes.
public struct CoTTemplate: Sendable, Equatable {
    public let name: String
    public let format: String

    public init(name: String, format: String) {
        self.name = name
        self.format = format
    }

    public func apply(to question: String) -> String {
        format.replacingOccurrences(of: "{question}", with: question)
    }

    /// The triggers of the Flan collection's CoT templates (and of the demo model in Models/).
    public static let builtIn: [CoTTemplate] = [
        CoTTemplate(name: "step-by-step", format: "{question}\nAnswer the following question by reasoning step-by-step."),
        CoTTemplate(name: "lets-think", format: "{question}\nLet's think step by step."),
        CoTTemplate(name: "step-by-step-prefix", format: "Answer the following question by reasoning step-by-step.\n{question}"),
    ]

    public static let `default` = builtIn[0]

    public static func named(_ name: String) -> CoTTemplate? { builtIn.first { $0.name == name } }
}

/// One worked example for few-shot CoT.
public struct CoTExemplar: Sendable, Equatable, Codable {
    public var question: String
    public var reasoning: String
    public var answer: String

    public init(question: String, reasoning: String, answer: String) {
        self.question = question
        self.reasoning = reasoning
        self.answer = answer
    }

    /// Reads exemplars from a JSON array or JSON lines of `{"question", "reasoning", "answer"}`.
    public static func load(from url: URL) throws -> [CoTExemplar] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CoTError.unreadableExemplars(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, path: url.path)
    }

    /// Exemplars from the bytes of a JSON array or JSON lines (read from a pipe, say); `path` names them in errors.
    public static func parse(_ data: Data, path: String) throws -> [CoTExemplar] {
        let decoder = JSONDecoder()
        if let array = try? decoder.decode([CoTExemplar].self, from: data) {
            guard !array.isEmpty else { throw CoTError.noExemplars(path: path) }
            return array
        }
        var result: [CoTExemplar] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            let trimmed = line.drop(while: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") })
            if trimmed.isEmpty { continue }
            do {
                result.append(try decoder.decode(CoTExemplar.self, from: Data(trimmed)))
            } catch {
                throw CoTError.badExemplar(path: path, line: n + 1, reason: "\(error)")
            }
        }
        guard !result.isEmpty else { throw CoTError.noExemplars(path: path) }
        return result
    }
}

/// How to turn a question into a prompt.
public enum CoTMode: Sendable, Equatable {
    case none
    case zeroShot(CoTTemplate)
    case fewShot([CoTExemplar])
}

public enum CoTError: Error, Equatable, CustomStringConvertible {
    case unreadableExemplars(path: String, reason: String)
    case badExemplar(path: String, line: Int, reason: String)
    case noExemplars(path: String)
    case questionTooLong(tokens: Int, budget: Int)

    public var description: String {
        switch self {
        case .unreadableExemplars(let path, let reason): return "\(path): cannot read exemplars: \(reason)"
        case .badExemplar(let path, let line, let reason):
            return "\(path):\(line): not an exemplar {\"question\", \"reasoning\", \"answer\"}: \(reason)"
        case .noExemplars(let path): return "\(path): holds no exemplar"
        case .questionTooLong(let tokens, let budget):
            return "the prompt alone is \(tokens) tokens, over the input budget of \(budget); it is never truncated"
        }
    }
}

/// Builds CoT prompts within an input budget measured in tokens.
public struct CoTPromptBuilder: Sendable {
    public let mode: CoTMode
    /// Most prompt tokens (EOS included). Flan-T5 was trained with 512-token inputs.
    public let inputBudget: Int

    public init(mode: CoTMode, inputBudget: Int = 512) {
        self.mode = mode
        self.inputBudget = inputBudget
    }

    /// Few-shot layout: `Q: …\nA: … So the answer is X.\n\n` per exemplar, then `Q: {question}\nA:`.
    public static func fewShotPrompt(question: String, exemplars: [CoTExemplar]) -> String {
        var text = ""
        for e in exemplars {
            text += "Q: \(e.question)\nA: \(e.reasoning) So the answer is \(e.answer).\n\n"
        }
        return text + "Q: \(question)\nA:"
    }

    /// The prompt text and how many exemplars it kept. Exemplars are dropped from the end until the prompt
    /// fits; a question that does not fit on its own is an error, never truncated.
    public func build(question: String, countTokens: (String) -> Int) throws -> (prompt: String, exemplarsUsed: Int) {
        switch mode {
        case .none:
            let n = countTokens(question)
            guard n <= inputBudget else { throw CoTError.questionTooLong(tokens: n, budget: inputBudget) }
            return (question, 0)
        case .zeroShot(let template):
            let prompt = template.apply(to: question)
            let n = countTokens(prompt)
            guard n <= inputBudget else { throw CoTError.questionTooLong(tokens: n, budget: inputBudget) }
            return (prompt, 0)
        case .fewShot(let exemplars):
            var kept = exemplars.count
            while true {
                let prompt = Self.fewShotPrompt(question: question, exemplars: Array(exemplars.prefix(kept)))
                let n = countTokens(prompt)
                if n <= inputBudget { return (prompt, kept) }
                if kept == 0 { throw CoTError.questionTooLong(tokens: n, budget: inputBudget) }
                kept -= 1
            }
        }
    }
}
