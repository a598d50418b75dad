// POST /v1/completions, /v1/chat/completions and /v1/embeddings request bodies, read strictly.
import T5SafeTensors

/// `POST /v1/completions`.
public struct CompletionRequest: Sendable, Equatable {
    public var model: String?
    /// One or more prompts; each gives `n` choices (index = prompt * n + choice).
    public var prompts: [String]
    public var decoding: DecodingRequest
    /// `logprobs`: per generated token, its log-probability and this many most likely alternatives (0...5).
    public var logprobs: Int?

    static let keys = DecodingRequest.sharedKeys.union(["prompt", "echo", "best_of", "suffix"])

    public init(body: [UInt8], limits: ServerLimits) throws(APIError) {
        let f = try JSONFields(bytes: body, known: Self.keys)
        model = try f.string("model")
        guard let prompts = try f.strings("prompt", maxCount: limits.maxPrompts) else {
            throw .invalid("'prompt' is required (a string or an array of strings)", param: "prompt")
        }
        self.prompts = prompts
        try f.requireNeutral("echo", isNeutral: \.isFalse, reason: "is not supported (only false)")
        try f.requireNeutral("suffix", isNeutral: { _ in false }, reason: "is not supported: T5 has no insertion mode")
        decoding = try DecodingRequest(f, limits: limits)
        // OpenAI's legacy completions allow up to 5 alternatives per token.
        logprobs = try f.int("logprobs", in: 0...5)
        if logprobs != nil, decoding.stream {
            throw .invalid("'logprobs' with 'stream' is not supported yet; ask without streaming", param: "logprobs")
        }
        if logprobs != nil, (decoding.selfConsistency ?? 1) > 1 {
            throw .invalid("'logprobs' with 'self_consistency' is not supported", param: "logprobs")
        }
        if let bestOf = try f.int("best_of", in: 1...limits.maxChoices), bestOf != decoding.n {
            throw .invalid("'best_of' is not supported (only equal to n); use 'num_beams'", param: "best_of")
        }
    }
}

/// One chat turn.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, developer, user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// `POST /v1/chat/completions`.
public struct ChatRequest: Sendable, Equatable {
    public var model: String?
    public var messages: [ChatMessage]
    public var decoding: DecodingRequest

    static let keys = DecodingRequest.sharedKeys.union([
        "messages", "max_completion_tokens", "top_logprobs", "tools", "tool_choice", "functions", "function_call",
        "response_format", "parallel_tool_calls",
    ])

    public init(body: [UInt8], limits: ServerLimits) throws(APIError) {
        let f = try JSONFields(bytes: body, known: Self.keys)
        model = try f.string("model")
        guard let items = try f.array("messages", maxCount: limits.maxPrompts) else {
            throw .invalid("'messages' is required (an array of {role, content})", param: "messages")
        }
        guard !items.isEmpty else { throw .invalid("'messages' must hold at least one message", param: "messages") }
        var messages: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            let m = try JSONFields(value: item, known: ["role", "content", "name"], context: "messages[\(i)]")
            guard let roleName = try m.string("role") else { throw .invalid("'messages[\(i)].role' is required", param: "messages") }
            guard let role = ChatMessage.Role(rawValue: roleName) else {
                throw .invalid("'messages[\(i)].role' must be system, developer, user or assistant, not '\(roleName)'", param: "messages")
            }
            messages.append(ChatMessage(role: role, content: try Self.text(m, index: i)))
        }
        guard messages.contains(where: { $0.role == .user }) else {
            throw .invalid("'messages' must hold at least one user message", param: "messages")
        }
        self.messages = messages
        if let v = f.value("logprobs"), !v.isFalse { throw .invalid("'logprobs' is not supported yet", param: "logprobs") }
        if f.value("top_logprobs") != nil { throw .invalid("'top_logprobs' is not supported yet", param: "top_logprobs") }
        for key in ["tools", "tool_choice", "functions", "function_call", "parallel_tool_calls"] where f.value(key) != nil {
            throw .invalid("'\(key)' is not supported: T5 has no tool calling", param: key)
        }
        if let format = try f.object("response_format", known: ["type"]), try format.string("type") != "text" {
            throw .invalid("'response_format' supports only {\"type\": \"text\"}", param: "response_format")
        }
        if f.value("max_tokens") != nil, f.value("max_completion_tokens") != nil {
            throw .invalid("set 'max_tokens' or 'max_completion_tokens', not both", param: "max_completion_tokens")
        }
        decoding = try DecodingRequest(f, limits: limits,
                                       maxTokensKey: f.value("max_completion_tokens") != nil ? "max_completion_tokens" : "max_tokens")
    }

    /// `content` as a string, or an array of `{"type": "text", "text": ...}` parts joined.
    static func text(_ m: JSONFields, index i: Int) throws(APIError) -> String {
        guard let v = m.value("content") else { throw .invalid("'messages[\(i)].content' is required", param: "messages") }
        switch v {
        case .string(let s): return s
        case .array(let parts):
            var text = ""
            for part in parts {
                let p = try JSONFields(value: part, known: ["type", "text"], context: "messages[\(i)].content[]")
                guard try p.string("type") == "text", let t = try p.string("text") else {
                    throw .invalid("'messages[\(i)].content' parts must be {\"type\": \"text\", \"text\": ...}", param: "messages")
                }
                text += t
            }
            return text
        default:
            throw .invalid("'messages[\(i)].content' must be a string or an array of text parts, not \(v.kindName)", param: "messages")
        }
    }

    /// The one T5 prompt for the conversation (T5 has no chat template): the texts of the system (and developer)
    /// messages first, then every other message in order (user and assistant turns alike, assistant turns as
    /// context), joined by a blank line. A single user message is its text unchanged, so it answers exactly like
    /// the same text sent as a completion.
    public var prompt: String {
        let system = messages.filter { $0.role == .system || $0.role == .developer }
        let turns = messages.filter { $0.role == .user || $0.role == .assistant }
        return (system + turns).map(\.content).joined(separator: "\n\n")
    }
}

/// `POST /v1/embeddings`.
public struct EmbeddingRequest: Sendable, Equatable {
    public enum Format: String, Sendable { case float, base64 }
    public var model: String?
    public var inputs: [String]
    public var format: Format

    static let keys: Set<String> = ["model", "input", "encoding_format", "user", "dimensions"]

    public init(body: [UInt8], limits: ServerLimits) throws(APIError) {
        let f = try JSONFields(bytes: body, known: Self.keys)
        model = try f.string("model")
        guard let inputs = try f.strings("input", maxCount: limits.maxPrompts) else {
            throw .invalid("'input' is required (a string or an array of strings; token arrays are not supported)", param: "input")
        }
        self.inputs = inputs
        let name = try f.string("encoding_format") ?? "float"
        guard let format = Format(rawValue: name) else {
            throw .invalid("'encoding_format' must be \"float\" or \"base64\", not \"\(name)\"", param: "encoding_format")
        }
        self.format = format
        _ = try f.string("user")
        if f.value("dimensions") != nil { throw .invalid("'dimensions' is not supported: vectors have the model's width", param: "dimensions") }
    }
}
