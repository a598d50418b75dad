// `t5 serve`: the OpenAI-compatible HTTP server over one model (T5Server), with continuous batching.
import ArgumentParser
import Foundation
import T5Engine
import T5Server
import T5ServerAPI

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over HTTP with OpenAI's API (completions, chat, embeddings), many requests sharing one decoder batch.",
        discussion: """
        Prints one line, "t5 serve: listening on http://HOST:PORT", on standard output once it listens and the model \
        is loaded (logs go to standard error). Endpoints: POST /v1/completions, /v1/chat/completions, /v1/embeddings; \
        GET /v1/models, /health, /ready, /metrics (Prometheus), / (a web page). SIGTERM or SIGINT stops accepting, \
        finishes the requests in flight (30 s at most) and exits 0.
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Address to listen on (only this machine by default).")
    var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on; 0 picks a free one (the ready line tells which).")
    var port = 8080
    @Option(name: .long, help: "Decoder rows running together (a request takes one per prompt, or per beam or sample).")
    var maxBatch = 16
    @Option(name: .long, help: "Requests waiting for rows before new ones are refused with 429.")
    var maxQueue = 256
    @Option(name: .long, help: "Longest prompt in tokens (EOS included); longer ones are refused with 400.")
    var maxPromptTokens = 1024
    @Option(name: .long, help: "Largest max_tokens a request may ask for (also what each row's cache is sized for).")
    var maxTokens = 512
    @Option(name: .long, help: "Require `Authorization: Bearer KEY` on /v1 requests.")
    var apiKey: String?
    @Option(name: .long, help: "Seconds a request may take, queueing included; then it ends with an error (504).")
    var requestTimeout: Double = 600
    @Option(name: .long, help: "Largest request body in bytes; larger ones are refused with 413.")
    var maxBodyBytes = 1 << 20
    @Option(name: .long, help: "Prompt tokens encoded between two decoder steps (waiting requests join together up to it; at least one).")
    var maxPrefillTokens = 2048

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        guard (1...1024).contains(maxBatch) else { throw ValidationError("--max-batch must be between 1 and 1024, got \(maxBatch)") }
        guard (0...1_000_000).contains(maxQueue) else { throw ValidationError("--max-queue must be between 0 and 1000000, got \(maxQueue)") }
        guard maxPromptTokens >= 1 else { throw ValidationError("--max-prompt-tokens must be >= 1, got \(maxPromptTokens)") }
        guard (1...GenerationOptions.maxNewTokensLimit).contains(maxTokens) else {
            throw ValidationError("--max-tokens must be between 1 and \(GenerationOptions.maxNewTokensLimit), got \(maxTokens)")
        }
        guard requestTimeout.isFinite, requestTimeout > 0 else { throw ValidationError("--request-timeout must be > 0 seconds") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be >= 1024, got \(maxBodyBytes)") }
        guard maxPrefillTokens >= 1 else { throw ValidationError("--max-prefill-tokens must be >= 1, got \(maxPrefillTokens)") }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
    }

    func run() async throws {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.maxQueue = maxQueue
        c.apiKey = apiKey
        c.requestTimeout = .milliseconds(Int64(requestTimeout * 1000))
        c.maxBodyBytes = maxBodyBytes
        c.limits.maxBatch = maxBatch
        c.limits.maxChoices = min(16, maxBatch)
        c.limits.maxPromptTokens = maxPromptTokens
        c.limits.maxTokens = maxTokens
        c.limits.maxPrefillTokens = maxPrefillTokens
        c.limits.defaultCompletionTokens = min(16, maxTokens)
        let options = model
        let server = OpenAIServer(configuration: c, load: {
            let folder = try options.loadFolder()
            let exemplars = try folder.exemplarsFile.map { try CoTExemplar.load(from: $0) } ?? []
            return LoadedModel(generator: try T5Generator(folder: folder), name: folder.directory.standardizedFileURL.lastPathComponent,
                               exemplars: exemplars)
        }, onReady: { url in
            FileHandle.standardOutput.write(Data("t5 serve: listening on \(url)\n".utf8))
        })
        try await server.run()
    }
}
