// The endpoints: OpenAI's /v1 (models, completions, chat completions, embeddings), /health, /ready, /metrics and
// the web page at /. Bodies are read within the size limit and decoded strictly before anything is queued, so a
// bad request (streamed or not) fails before any work or any chunk.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import T5Engine
import T5ServerAPI

struct Routes: Sendable {
    let engine: Engine
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let publicDirectory: URL?
    let started = Int(Date().timeIntervalSince1970)
    var limits: ServerLimits { configuration.limits }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(metrics: metrics))
        router.get("/health") { _, _ in json(Data(#"{"status":"ok"}"#.utf8)) }
        router.get("/ready") { _, _ in
            _ = try engine.ready()
            return json(Data(#"{"status":"ready"}"#.utf8))
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.text)))
        }
        for (path, file) in [("/", "index.html"), ("/index.html", "index.html"), ("/app.js", "app.js"), ("/style.css", "style.css")] {
            router.get(RouterPath(path)) { request, _ in try page(file, path: request.uri.path) }
        }
        let v1 = router.group("v1").add(middleware: AuthMiddleware(key: configuration.apiKey))
        v1.get("models") { _, _ in
            let (_, model) = try engine.ready()
            return json(ModelList(id: model.name, created: started).jsonBytes())
        }
        v1.post("completions") { request, _ in try await completions(request) }
        v1.post("chat/completions") { request, _ in try await chat(request) }
        v1.post("embeddings") { request, _ in try await embeddings(request) }

        let allowed: [(String, HTTPRequest.Method)] = [
            ("/health", .get), ("/ready", .get), ("/metrics", .get), ("/", .get), ("/v1/models", .get),
            ("/v1/completions", .post), ("/v1/chat/completions", .post), ("/v1/embeddings", .post),
        ]
        for (path, method) in allowed {
            for other in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where other != method {
                router.on(RouterPath(path), method: other) { request, _ -> Response in
                    throw APIError.methodNotAllowed(request.method.rawValue, request.uri.path)
                }
            }
        }
        return router
    }

    // MARK: - Endpoints

    func completions(_ request: Request) async throws -> Response {
        let (scheduler, model) = try engine.ready()
        let r = try CompletionRequest(body: try await body(request), limits: limits)
        var options = try options(r.decoding, model: model, defaultMaxTokens: limits.defaultCompletionTokens)
        options.logprobs = r.logprobs
        let prompts = try tokenize(r.prompts, decoding: r.decoding, options: options, model: model)
        return try await generate(prompts, options: options, decoding: r.decoding, chat: false, scheduler: scheduler, model: model)
    }

    func chat(_ request: Request) async throws -> Response {
        let (scheduler, model) = try engine.ready()
        let r = try ChatRequest(body: try await body(request), limits: limits)
        let options = try options(r.decoding, model: model, defaultMaxTokens: limits.maxTokens)
        let prompts = try tokenize([r.prompt], decoding: r.decoding, options: options, model: model)
        return try await generate(prompts, options: options, decoding: r.decoding, chat: true, scheduler: scheduler, model: model)
    }

    func embeddings(_ request: Request) async throws -> Response {
        let (scheduler, model) = try engine.ready()
        let r = try EmbeddingRequest(body: try await body(request), limits: limits)
        var o = GenerationOptions()
        o.maxPromptTokens = limits.maxPromptTokens
        let prompts = try tokenize(r.inputs, decoding: DecodingRequest(), options: o, model: model, param: "input")
        let tokens = prompts.reduce(0) { $0 + $1.count }
        let submission = try scheduler.submit(.embed(prompts: prompts), timeout: configuration.requestTimeout)
        metrics.promptTokens.increment(by: Int64(tokens))
        for await event in submission.events {
            switch event {
            case .embedded(let vectors):
                return json(EmbeddingResponse(vectors: vectors, format: r.format, model: model.name, promptTokens: tokens).jsonBytes())
            case .failed(let error): throw error
            case .tokens, .finished: continue
            }
        }
        throw APIError.unavailable("The request was dropped")
    }

    // MARK: - Generation

    func options(_ decoding: DecodingRequest, model: LoadedModel, defaultMaxTokens: Int) throws(APIError) -> GenerationOptions {
        let o = try decoding.options(base: model.generator.defaultOptions, limits: limits, defaultMaxTokens: defaultMaxTokens,
                                     randomSeed: { UInt64.random(in: .min ... .max) })
        do { try o.validate(vocabularySize: model.generator.model.config.vocabSize) } catch {
            throw .invalid("\(error)", param: decoding.logitBias.isEmpty ? nil : "logit_bias")
        }
        return o
    }

    /// Prompt texts (after chain-of-thought prompting when asked) to token ids within the prompt limit.
    func tokenize(_ texts: [String], decoding: DecodingRequest, options: GenerationOptions, model: LoadedModel,
                  param: String = "prompt") throws(APIError) -> [[Int]] {
        let generator = model.generator
        let eos = generator.model.config.eosTokenId
        var out: [[Int]] = []
        for (i, text) in texts.enumerated() {
            var prompt = text
            if let cot = decoding.cot {
                let mode: CoTMode
                switch cot {
                case .zeroShot: mode = .zeroShot(.default)
                case .fewShot:
                    guard !model.exemplars.isEmpty else {
                        throw .invalid("'cot': \"few-shot\" needs exemplars (exemplars.jsonl in the model folder)", param: "cot")
                    }
                    mode = .fewShot(model.exemplars)
                }
                do { prompt = try generator.cotPrompt(question: text, mode: mode, inputBudget: limits.maxPromptTokens ?? 512).prompt } catch {
                    throw .invalid("\(error)", param: "cot")
                }
            }
            do {
                out.append(try options.limitPrompt(try generator.tokenizer.encodeWithEOS(prompt), eos: eos, prompt: i))
            } catch {
                throw .invalid("\(error)", param: param, code: "context_length_exceeded")
            }
        }
        return out
    }

    func generate(_ prompts: [[Int]], options: GenerationOptions, decoding: DecodingRequest, chat: Bool,
                  scheduler: Scheduler, model: LoadedModel) async throws -> Response {
        let submission = try scheduler.submit(.generate(prompts: prompts, options: options, stops: decoding.stop),
                                              timeout: configuration.requestTimeout)
        let promptTokens = prompts.reduce(0) { $0 + $1.count }
        metrics.promptTokens.increment(by: Int64(promptTokens))
        let output = Output(chat: chat, model: model.name, tokenizer: model.generator.tokenizer, stops: decoding.stop,
                            perPrompt: options.numReturnSequences, promptTokens: promptTokens)
        if decoding.stream {
            let events = submission.events, cancel = submission.cancel, includeUsage = decoding.includeUsage
            let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                var completed = false
                defer { if !completed { cancel() } }
                var stream = output.streamState()
                for chunk in output.opening() { try await writer.write(sse(chunk)) }
                for await event in events {
                    switch event {
                    case .tokens(let tokens):
                        for chunk in stream.tokens(tokens) { try await writer.write(sse(chunk)) }
                    case .finished(let sequences):
                        for chunk in stream.finished(sequences, includeUsage: includeUsage) { try await writer.write(sse(chunk)) }
                        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                        completed = true
                    case .failed(let error):
                        try await writer.write(sse(error.body))
                        completed = true
                    case .embedded: continue
                    }
                    if completed { break }
                }
                try await writer.finish(nil)
            })
        }
        for await event in submission.events {
            switch event {
            case .tokens, .embedded: continue
            case .finished(let sequences):
                let result = (decoding.selfConsistency ?? 1) > 1 ? output.vote(sequences) : output.whole(sequences)
                return json(result)
            case .failed(let error): throw error
            }
        }
        throw APIError.unavailable("The request was dropped")
    }

    // MARK: - Helpers

    func body(_ request: Request) async throws -> [UInt8] {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw APIError.tooLarge(limit: limit) }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)
        }
    }

    func page(_ file: String, path: String) throws -> Response {
        guard let dir = publicDirectory, let type = PublicFiles.files[file],
              let data = FileManager.default.contents(atPath: dir.appendingPathComponent(file).path) else {
            throw APIError.notFound(path)
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

func json(_ data: Data) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func sse(_ data: Data) -> ByteBuffer {
    var buffer = ByteBuffer(string: "data: ")
    buffer.writeBytes(data)
    buffer.writeString("\n\n")
    return buffer
}
