// Everything `t5 serve` can be told: where to listen, the request limits, the queue, auth and timeouts.
import T5Engine
import Foundation
import T5ServerAPI

public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (the ready line tells which).
    public var port = 8080
    public var limits = ServerLimits()
    /// Requests waiting for decoder rows before new ones get 429.
    public var maxQueue = 256
    /// Bearer key every /v1 request must send; nil: no auth.
    public var apiKey: String?
    /// From arrival to the last token; past it the request ends with a 504 error.
    public var requestTimeout: Duration? = .seconds(600)
    /// Largest request body; larger ones get 413.
    public var maxBodyBytes = 1 << 20
    /// Open connections at once; more wait in the listen backlog.
    public var maxConnections = 512
    /// A connection idle this long (e.g. a slow-loris client sending nothing) is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// How long a shutdown waits for requests in flight before ending them.
    public var shutdownTimeout: Duration = .seconds(30)
    /// Where the web page's files are; nil: found by `PublicFiles.locate()`.
    public var publicDirectory: URL?
    /// Stop on SIGTERM / SIGINT (off in tests, which stop the server themselves).
    public var handleSignals = true

    public init() {}
}

/// A loaded model as the server needs it.
public struct LoadedModel: Sendable {
    public var generator: T5Generator
    /// The id `/v1/models` lists (clients send it back as `model`; any value is accepted).
    public var name: String
    /// Few-shot chain-of-thought exemplars (the folder's exemplars.jsonl), when there are any.
    public var exemplars: [CoTExemplar]

    public init(generator: T5Generator, name: String, exemplars: [CoTExemplar]) {
        self.generator = generator
        self.name = name
        self.exemplars = exemplars
    }
}
