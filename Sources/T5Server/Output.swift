// Turns a request's sequences into OpenAI's response bodies: whole (choices, usage), streamed (chunks as tokens
// arrive, each choice's pieces joining to its whole text), or voted (self-consistency's majority answer).
import Foundation
import T5Engine
import T5ServerAPI

struct Output: Sendable {
    let chat: Bool
    let model: String
    let tokenizer: any TextTokenizer
    let stops: [String]
    /// Choices per prompt (`n`): choice index = prompt * perPrompt + sequence.
    let perPrompt: Int
    let promptTokens: Int
    let id = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    let created = Int(Date().timeIntervalSince1970)

    var chatId: String { "chat" + id }

    func body(choices: [(index: Int, text: String?, finish: FinishReasonName?, role: Bool)], usage: Usage?, chunk: Bool,
              logprobs: [Int: CompletionLogprobs] = [:]) -> Data {
        if chat {
            let list = choices.map { c -> ChatChoice in
                let message = ChatMessageBody(role: c.role ? "assistant" : nil, content: c.text)
                return chunk ? ChatChoice(index: c.index, delta: message, finishReason: c.finish)
                             : ChatChoice(index: c.index, message: message, finishReason: c.finish)
            }
            return ChatResponse(id: chatId, object: chunk ? "chat.completion.chunk" : "chat.completion", created: created, model: model,
                                choices: list, usage: usage).jsonBytes()
        }
        let list = choices.map {
            CompletionChoice(text: $0.text ?? "", index: $0.index, logprobs: logprobs[$0.index], finishReason: $0.finish)
        }
        return CompletionResponse(id: id, created: created, model: model, choices: list, usage: usage).jsonBytes()
    }

    func whole(_ sequences: [[GeneratedSequence]]) -> Data {
        var choices: [(index: Int, text: String?, finish: FinishReasonName?, role: Bool)] = []
        var logprobs: [Int: CompletionLogprobs] = [:]
        for (p, list) in sequences.enumerated() {
            for (k, s) in list.enumerated() {
                let text = StreamedText.final(tokenizer.decodeSkippingSpecial(s.tokens), stops: stops)
                choices.append((p * perPrompt + k, text, FinishReasonName(s.finishReason), true))
                if let entries = s.logprobs {
                    logprobs[p * perPrompt + k] = CompletionLogprobs(tokens: s.tokens, logprobs: entries,
                                                                     textLength: text.unicodeScalars.count,
                                                                     decode: tokenizer.decodeSkippingSpecial)
                }
            }
        }
        let generated = sequences.joined().reduce(0) { $0 + $1.tokens.count }
        return body(choices: choices, usage: Usage(promptTokens: promptTokens, completionTokens: generated), chunk: false,
                    logprobs: logprobs)
    }

    /// Self-consistency: per prompt, the path whose extracted answer most paths agree on.
    func vote(_ sequences: [[GeneratedSequence]]) -> Data {
        var choices: [(index: Int, text: String?, finish: FinishReasonName?, role: Bool)] = []
        for (p, paths) in sequences.enumerated() {
            let texts = paths.map { StreamedText.final(tokenizer.decodeSkippingSpecial($0.tokens), stops: stops) }
            let answers = texts.map(AnswerExtraction.answer(from:))
            let winner = AnswerExtraction.majority(answers).flatMap { answers.firstIndex(of: $0.0) } ?? 0
            choices.append((p, texts[winner], FinishReasonName(paths[winner].finishReason), true))
        }
        let generated = sequences.joined().reduce(0) { $0 + $1.tokens.count }
        return body(choices: choices, usage: Usage(promptTokens: promptTokens, completionTokens: generated), chunk: false)
    }

    /// Chat streams open with the assistant role (OpenAI's first delta), one per choice; completions need none.
    func opening() -> [Data] {
        guard chat else { return [] }
        return [body(choices: (0..<perPrompt).map { ($0, "", nil, true) }, usage: nil, chunk: true)]
    }

    func streamState() -> StreamState { StreamState(output: self) }

    struct StreamState {
        let output: Output
        var tokens: [Int: [Int]] = [:]
        var texts: [Int: StreamedText] = [:]

        init(output: Output) { self.output = output }

        mutating func tokens(_ events: [TokenEvent]) -> [Data] {
            var chunks: [Data] = []
            for e in events {
                let index = e.prompt * output.perPrompt + e.sequence
                tokens[index, default: []].append(e.token)
                var text = texts[index] ?? StreamedText(stops: output.stops)
                let piece = text.update(output.tokenizer.decodeSkippingSpecial(tokens[index]!))
                texts[index] = text
                if !piece.isEmpty { chunks.append(output.body(choices: [(index, piece, nil, false)], usage: nil, chunk: true)) }
            }
            return chunks
        }

        mutating func finished(_ sequences: [[GeneratedSequence]], includeUsage: Bool) -> [Data] {
            var chunks: [Data] = []
            for (p, list) in sequences.enumerated() {
                for (k, s) in list.enumerated() {
                    let index = p * output.perPrompt + k
                    var text = texts[index] ?? StreamedText(stops: output.stops)
                    let piece = text.finish(output.tokenizer.decodeSkippingSpecial(s.tokens))
                    if !piece.isEmpty { chunks.append(output.body(choices: [(index, piece, nil, false)], usage: nil, chunk: true)) }
                    let finish: [(index: Int, text: String?, finish: FinishReasonName?, role: Bool)] =
                        [(index, output.chat ? nil : "", FinishReasonName(s.finishReason), false)]
                    chunks.append(output.body(choices: finish, usage: nil, chunk: true))
                }
            }
            if includeUsage {
                let generated = sequences.joined().reduce(0) { $0 + $1.tokens.count }
                chunks.append(output.body(choices: [], usage: Usage(promptTokens: output.promptTokens, completionTokens: generated), chunk: true))
            }
            return chunks
        }
    }
}
