// The model's life in the server: loading (503), ready (a running scheduler), shutting down (503 for new work).
import Foundation
import ServiceLifecycle
import Synchronization
import T5Engine
import T5ServerAPI

final class Engine: Service, Sendable {
    enum State: Sendable {
        case loading
        case ready(Scheduler, LoadedModel)
        case failed(String)
    }

    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    private let load: @Sendable () throws -> LoadedModel
    private let state = Mutex<State>(.loading)
    private let stopping = Atomic<Bool>(false)

    init(configuration: ServerConfiguration, metrics: ServerMetrics, load: @escaping @Sendable () throws -> LoadedModel) {
        self.configuration = configuration
        self.metrics = metrics
        self.load = load
    }

    /// The scheduler and model, or the error a request gets now (503 while loading or shutting down).
    func ready() throws(APIError) -> (Scheduler, LoadedModel) {
        if stopping.load(ordering: .acquiring) { throw .unavailable("The server is shutting down") }
        switch state.withLock({ $0 }) {
        case .ready(let s, let m): return (s, m)
        case .loading: throw .unavailable("The model is still loading")
        case .failed(let why): throw .unavailable("The model failed to load: \(why)")
        }
    }

    var isReady: Bool { (try? ready()) != nil }

    /// New requests get 503 from now on (the first step of a shutdown).
    func beginShutdown() { stopping.store(true, ordering: .releasing) }

    /// Suspends until the model is loaded (true) or failed to load (false).
    func waitUntilLoaded() async -> Bool {
        while true {
            switch state.withLock({ $0 }) {
            case .ready: return true
            case .failed: return false
            case .loading: try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func run() async throws {
        let load = self.load, configuration = self.configuration, metrics = self.metrics
        let loaded: (Scheduler, LoadedModel)
        do {
            loaded = try await onOwnThread {
                let model = try load()
                let scheduler = Scheduler(generator: model.generator, limits: configuration.limits,
                                          maxQueue: configuration.maxQueue, metrics: metrics)
                try scheduler.start()
                return (scheduler, model)
            }
        } catch {
            state.withLock { $0 = .failed("\(error)") }
            throw error
        }
        state.withLock { $0 = .ready(loaded.0, loaded.1) }
        // The HTTP service stops first (services stop in reverse order), finishing its requests; then the loop.
        try? await gracefulShutdown()
        beginShutdown()
        await loaded.0.drain(timeout: configuration.shutdownTimeout)
    }
}

/// Flips readiness to 503 as soon as a shutdown starts (it is the last service, so the first told to stop).
struct ShutdownNotice: Service {
    let engine: Engine
    func run() async throws {
        try? await gracefulShutdown()
        engine.beginShutdown()
    }
}

/// Runs blocking work (model loading) on a new thread, not on the cooperative pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        let thread = Thread {
            do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
