// Response bodies and server-sent-event chunks in OpenAI's shapes (field names as the official clients read them).
import Foundation
import T5Engine

public struct Usage: Encodable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens" }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
    }
}

/// OpenAI's finish reasons: the model's EOS and a stop string are both `stop`; the token limit is `length`.
public enum FinishReasonName: String, Sendable, Encodable {
    case stop, length
    public init(_ reason: FinishReason) { self = reason == .length ? .length : .stop }
}

/// A completion choice's `logprobs` in OpenAI's legacy completions shape: per generated token its text, its
/// log-probability, the most likely alternatives (text → log-probability) and where its text starts in the choice.
public struct CompletionLogprobs: Encodable, Sendable, Equatable {
    public var tokens: [String]
    public var tokenLogprobs: [Float]
    public var topLogprobs: [[String: Float]]
    public var textOffset: [Int]
    enum CodingKeys: String, CodingKey {
        case tokens, tokenLogprobs = "token_logprobs", topLogprobs = "top_logprobs", textOffset = "text_offset"
    }
    public init(tokens: [String], tokenLogprobs: [Float], topLogprobs: [[String: Float]], textOffset: [Int]) {
        self.tokens = tokens
        self.tokenLogprobs = tokenLogprobs
        self.topLogprobs = topLogprobs
        self.textOffset = textOffset
    }

    /// Builds the object for one sequence. `logprobs[i]` belongs to `tokens[i]`; a token's text is what it adds to
    /// the decoded text (so word-initial spaces show). When a stop string cut the text to `textLength` characters
    /// (Unicode scalars, as Python counts), tokens starting at or past the cut are left out, as OpenAI does.
    public init(tokens ids: [Int], logprobs: [TokenLogprob], textLength: Int, decode: ([Int]) -> String) {
        var tokens: [String] = [], values: [Float] = [], tops: [[String: Float]] = [], offsets: [Int] = []
        var before = ""
        let cut = textLength < decode(ids).unicodeScalars.count
        for (i, entry) in logprobs.prefix(ids.count).enumerated() {
            let offset = before.unicodeScalars.count
            if cut, offset >= textLength { break }
            // The text a token adds after the previous one (context enough for SentencePiece's word spaces).
            let context = i > 0 ? [ids[i - 1]] : [], head = decode(context)
            func piece(_ id: Int) -> String {
                let whole = decode(context + [id])
                return whole.hasPrefix(head) ? String(whole.dropFirst(head.count)) : decode([id])
            }
            tokens.append(piece(ids[i]))
            values.append(entry.logprob)
            var top: [String: Float] = [:]
            for alternative in entry.top {
                let text = piece(alternative.id)
                if top[text] == nil { top[text] = alternative.logprob }
            }
            tops.append(top)
            offsets.append(offset)
            before = decode(Array(ids[...i]))
        }
        self.init(tokens: tokens, tokenLogprobs: values, topLogprobs: tops, textOffset: offsets)
    }
}

public struct CompletionChoice: Encodable, Sendable {
    public var text: String
    public var index: Int
    public var logprobs: CompletionLogprobs?
    public var finishReason: FinishReasonName?
    enum CodingKeys: String, CodingKey { case text, index, logprobs, finishReason = "finish_reason" }
    public init(text: String, index: Int, logprobs: CompletionLogprobs? = nil, finishReason: FinishReasonName?) {
        self.text = text
        self.index = index
        self.logprobs = logprobs
        self.finishReason = finishReason
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        try c.encode(index, forKey: .index)
        if let logprobs { try c.encode(logprobs, forKey: .logprobs) } else { try c.encodeNil(forKey: .logprobs) }
        try c.encode(finishReason, forKey: .finishReason)
    }
}

/// A whole completion (`object: text_completion`) or one streamed chunk of it (same object name, as OpenAI sends).
public struct CompletionResponse: Encodable, Sendable {
    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [CompletionChoice]
    public var usage: Usage?
    public init(id: String, created: Int, model: String, choices: [CompletionChoice], usage: Usage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

public struct ChatMessageBody: Encodable, Sendable {
    public var role: String?
    public var content: String?
    public init(role: String?, content: String?) {
        self.role = role
        self.content = content
    }
}

public struct ChatChoice: Encodable, Sendable {
    public var index: Int
    /// The whole answer (`chat.completion`) or its next piece (`chat.completion.chunk`).
    public var message: ChatMessageBody?
    public var delta: ChatMessageBody?
    public var finishReason: FinishReasonName?
    enum CodingKeys: String, CodingKey { case index, message, delta, logprobs, finishReason = "finish_reason" }
    public init(index: Int, message: ChatMessageBody? = nil, delta: ChatMessageBody? = nil, finishReason: FinishReasonName?) {
        self.index = index
        self.message = message
        self.delta = delta
        self.finishReason = finishReason
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(delta, forKey: .delta)
        try c.encodeNil(forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

public struct ChatResponse: Encodable, Sendable {
    public var id: String
    /// `chat.completion` or `chat.completion.chunk`.
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [ChatChoice]
    public var usage: Usage?
    public init(id: String, object: String, created: Int, model: String, choices: [ChatChoice], usage: Usage?) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

public struct EmbeddingResponse: Encodable, Sendable {
    public struct Item: Encodable, Sendable {
        public var object = "embedding"
        public var index: Int
        public var embedding: Vector
    }
    /// Floats as JSON numbers (each the exact float32 value written as a double, so it reads back bit-exact), or
    /// base64 of little-endian float32, as the OpenAI clients decode it.
    public enum Vector: Encodable, Sendable {
        case float([Float])
        case base64([Float])
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .float(let v): try c.encode(v.map(Double.init))
            case .base64(let v):
                let bytes = v.flatMap { f -> [UInt8] in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
                try c.encode(Data(bytes).base64EncodedString())
            }
        }
    }
    public struct EmbeddingUsage: Encodable, Sendable {
        public var promptTokens: Int
        enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", totalTokens = "total_tokens" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(promptTokens, forKey: .promptTokens)
            try c.encode(promptTokens, forKey: .totalTokens)
        }
    }
    public var object = "list"
    public var data: [Item]
    public var model: String
    public var usage: EmbeddingUsage

    public init(vectors: [[Float]], format: EmbeddingRequest.Format, model: String, promptTokens: Int) {
        data = vectors.enumerated().map { Item(index: $0, embedding: format == .float ? .float($1) : .base64($1)) }
        self.model = model
        usage = EmbeddingUsage(promptTokens: promptTokens)
    }
}

public struct ModelList: Encodable, Sendable {
    public struct Model: Encodable, Sendable {
        public var id: String
        public var object = "model"
        public var created: Int
        public var ownedBy = "swift-t5"
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
    }
    public var object = "list"
    public var data: [Model]
    public init(id: String, created: Int) { data = [Model(id: id, created: created)] }
}

extension Encodable {
    /// Compact JSON, keys in declaration order.
    public func jsonBytes() -> Data {
        (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
    }
}
