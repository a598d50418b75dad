// A real `t5 serve` in the test process on a free loopback port, over the shipped demo model (Models/demo-t5),
// and a real HTTP client (AsyncHTTPClient) to talk to it.
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import T5Engine
import T5Server
import T5ServerAPI

struct HTTPResult {
    let status: Int
    let headers: [String: String]
    let body: Data
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
    var error: [String: Any]? { json["error"] as? [String: Any] }
}

final class TestServer: Sendable {
    let server: OpenAIServer
    let url: String
    let task: Task<Void, Error>
    let model: LoadedModel

    static let demoDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Models/demo-t5").standardizedFileURL

    static func loadDemo() throws -> LoadedModel {
        let folder = try ModelFolder(directory: demoDirectory)
        let exemplars = try folder.exemplarsFile.map { try CoTExemplar.load(from: $0) } ?? []
        return LoadedModel(generator: try T5Generator(folder: folder), name: "demo-t5", exemplars: exemplars)
    }

    static func start(_ edit: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        var c = ServerConfiguration()
        c.port = 0
        c.handleSignals = false
        c.limits.maxTokens = 256
        c.limits.maxPromptTokens = 256
        c.shutdownTimeout = .seconds(10)
        edit(&c)
        let model = try loadDemo()
        let address = Mutex<String?>(nil)
        let server = OpenAIServer(configuration: c, load: { model }, onReady: { url in address.withLock { $0 = url } })
        let task = Task { try await server.run() }
        for _ in 0..<500 {
            if let url = address.withLock({ $0 }) { return TestServer(server: server, url: url, task: task, model: model) }
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        throw CancellationError()
    }

    private init(server: OpenAIServer, url: String, task: Task<Void, Error>, model: LoadedModel) {
        self.server = server
        self.url = url
        self.task = task
        self.model = model
    }

    func stop() async throws {
        await server.shutdown()
        try await task.value
    }

    func request(_ method: HTTPMethod, _ path: String, body: String? = nil, bytes: [UInt8]? = nil,
                 headers: [String: String] = [:], timeout: Int64 = 60) async throws -> HTTPResult {
        var r = HTTPClientRequest(url: url + path)
        r.method = method
        r.headers.add(name: "Content-Type", value: "application/json")
        for (k, v) in headers { r.headers.add(name: k, value: v) }
        if let body { r.body = .bytes(ByteBuffer(string: body)) }
        if let bytes { r.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(r, timeout: .seconds(timeout))
        let data = try await response.body.collect(upTo: 64 << 20)
        var h: [String: String] = [:]
        for field in response.headers { h[field.name.lowercased()] = field.value }
        return HTTPResult(status: Int(response.status.code), headers: h, body: Data(buffer: data))
    }

    func post(_ path: String, _ json: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await request(.POST, path, body: json, headers: headers)
    }

    /// A streamed request's `data:` payloads, in order (the last is `[DONE]`).
    func stream(_ path: String, _ json: String, stopAfter: Int? = nil) async throws -> [String] {
        var r = HTTPClientRequest(url: url + path)
        r.method = .POST
        r.headers.add(name: "Content-Type", value: "application/json")
        r.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(r, timeout: .seconds(60))
        var events: [String] = [], pending = ""
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let end = pending.range(of: "\n\n") {
                let event = String(pending[..<end.lowerBound])
                pending.removeSubrange(..<end.upperBound)
                if event.hasPrefix("data: ") { events.append(String(event.dropFirst(6))) }
            }
            if let stopAfter, events.count >= stopAfter { return events }
        }
        return events
    }

    /// A gauge or counter's value in /metrics.
    func metric(_ name: String) async throws -> Double? {
        let text = try await request(.GET, "/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// What the library gives alone for a completion body: its options mapped as the server maps them.
    /// The request's sequences from the library alone (`logprobs` as the route sets it).
    func aloneSequences(_ json: String) throws -> [[GeneratedSequence]] {
        let r = try CompletionRequest(body: Array(json.utf8), limits: ServerLimits())
        let g = model.generator
        var o = try r.decoding.options(base: g.defaultOptions, limits: ServerLimits(), defaultMaxTokens: 16, randomSeed: { 0 })
        o.logprobs = r.logprobs
        let ids = try r.prompts.map { try g.tokenizer.encodeWithEOS($0) }
        return try g.model.generate(prompts: ids, options: o)
    }

    func alone(_ json: String) throws -> [[String]] {
        let r = try CompletionRequest(body: Array(json.utf8), limits: ServerLimits())
        let g = model.generator
        let o = try r.decoding.options(base: g.defaultOptions, limits: ServerLimits(), defaultMaxTokens: 16, randomSeed: { 0 })
        let ids = try r.prompts.map { try g.tokenizer.encodeWithEOS($0) }
        return try g.model.generate(prompts: ids, options: o).map { $0.map { StreamedText.final(g.tokenizer.decodeSkippingSpecial($0.tokens), stops: o.stopStrings) } }
    }
}

func texts(_ r: HTTPResult) -> [String] {
    let choices = (r.json["choices"] as? [[String: Any]]) ?? []
    return choices.sorted { ($0["index"] as? Int ?? 0) < ($1["index"] as? Int ?? 0) }.map { $0["text"] as? String ?? "<none>" }
}
