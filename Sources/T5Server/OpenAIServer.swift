// `t5 serve`: an OpenAI-compatible HTTP server over one model, on Hummingbird 2 with service-lifecycle for start-up
// and graceful shutdown (SIGTERM / SIGINT: stop accepting, finish requests in flight within a bounded wait, exit 0).
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import T5Engine
import T5ServerAPI

public final class OpenAIServer: Sendable {
    let configuration: ServerConfiguration
    let engine: Engine
    let metrics: ServerMetrics
    private let logger: Logger
    private let group: ServiceGroup

    /// `load` runs on a thread of its own once the server listens; until it returns, /ready and the API answer 503.
    /// `onReady` gets `http://host:port` once the server listens and the model is loaded.
    public init(configuration: ServerConfiguration, logger: Logger = OpenAIServer.stderrLogger(),
                load: @escaping @Sendable () throws -> LoadedModel, onReady: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.logger = logger
        let metrics = ServerMetrics()
        self.metrics = metrics
        let engine = Engine(configuration: configuration, metrics: metrics, load: load)
        self.engine = engine
        let publicDirectory = configuration.publicDirectory ?? PublicFiles.locate()
        let router = Routes(engine: engine, configuration: configuration, metrics: metrics, publicDirectory: publicDirectory).router()
        let host = configuration.host
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout.components.seconds) * 1_000_000_000))),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: configuration.port), serverName: "t5-serve",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { channel in
                guard await engine.waitUntilLoaded() else { return }
                let port = channel.localAddress?.port ?? configuration.port
                onReady("http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
            },
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: engine), .init(service: app), .init(service: ShutdownNotice(engine: engine))],
            gracefulShutdownSignals: configuration.handleSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout + .seconds(5)
        group = ServiceGroup(configuration: groupConfiguration)
    }

    /// Logs to standard error (standard output carries only the ready line), notices and worse unless `LOG_LEVEL` says.
    public static func stderrLogger() -> Logger {
        var logger = Logger(label: "t5.serve", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
        return logger
    }

    /// Serves until shut down (a signal, or `shutdown()`); throws if the model fails to load or the port is taken.
    public func run() async throws {
        try await group.run()
    }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}
