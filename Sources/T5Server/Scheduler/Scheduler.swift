// One thread owns the model's decoding session and runs continuous batching: between decoder steps it admits
// waiting requests (encoding their prompts) up to a prompt-token budget, at least one, so a burst of arrivals starts
// together while the running requests' next token is delayed by a bounded amount, drops requests whose client left
// or whose time ran out, and steps every running request's rows together.
import Foundation
import Synchronization
import T5Engine
import T5ServerAPI

final class Scheduler: @unchecked Sendable {
    let generator: T5Generator
    let limits: ServerLimits
    let maxQueue: Int
    let metrics: ServerMetrics

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var draining = false
    private var finished = false
    private var runningCount = 0

    init(generator: T5Generator, limits: ServerLimits, maxQueue: Int, metrics: ServerMetrics) {
        self.generator = generator
        self.limits = limits
        self.maxQueue = maxQueue
        self.metrics = metrics
    }

    /// Queues `work`; its events arrive on the returned stream. Ending the stream (the client left) cancels the job.
    func submit(_ work: Job.Work, timeout: Duration?) throws(APIError) -> (events: AsyncStream<JobEvent>, cancel: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<JobEvent>.makeStream()
        let job = Job(work: work, timeout: timeout, events: continuation)
        guard job.rows <= limits.maxBatch else {
            throw .invalid("the request needs \(job.rows) decoder rows, over the server's batch of \(limits.maxBatch)", param: "n")
        }
        condition.lock()
        defer { condition.unlock() }
        guard !draining else { throw .unavailable("The server is shutting down") }
        guard queue.count < maxQueue else { throw .overloaded(queue: queue.count) }
        queue.append(job)
        metrics.queueDepth.set(to: Double(queue.count))
        continuation.onTermination = { [weak self] reason in
            if case .cancelled = reason {
                job.cancel()
                self?.wake()
            }
        }
        condition.signal()
        return (stream, { [weak self] in
            job.cancel()
            self?.wake()
        })
    }

    private func wake() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Starts the loop on a thread of its own (never a cooperative-pool thread: a step blocks for milliseconds).
    func start() throws {
        let session = try DecodingSession(model: generator.model, capacity: limits.maxBatch, maxSteps: limits.maxTokens,
                                          maxPromptLength: min(limits.maxPromptTokens ?? 512, 512), reorderable: true)
        // Handed to the loop thread, which alone uses it from then on.
        let handOver = HandOver(value: session)
        let thread = Thread { [self] in self.run(loop: SharedDecodingLoop(session: handOver.value)) }
        thread.name = "t5-scheduler"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Stops admitting new requests; those queued and running still finish. Returns once the loop is idle, or
    /// after `timeout`, when whatever is left is ended with 503.
    func drain(timeout: Duration) async {
        beginDraining()
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if isFinished { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = takeQueue()
        for job in left { job.end(.failed(.unavailable("The server shut down before the request ran"))) }
        for job in left { job.cancel() }
    }

    private func beginDraining() {
        condition.lock()
        draining = true
        condition.signal()
        condition.unlock()
    }

    private func takeQueue() -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        let left = queue
        queue.removeAll()
        return left
    }

    /// The first waiting job, if its rows and prompt tokens fit and its client is still there (else nil; the loop
    /// drops a gone one later).
    private func popHead(fitting freeRows: Int, promptTokens: Int) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        guard let job = queue.first, job.rows <= freeRows, job.promptTokens <= promptTokens, !job.isCancelled,
              job.deadline.map({ $0 > ContinuousClock.now }) ?? true else { return nil }
        queue.removeFirst()
        metrics.queueDepth.set(to: Double(queue.count))
        return job
    }

    private var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// Requests waiting for rows.
    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    // MARK: - The loop thread

    private func run(loop: SharedDecodingLoop) {
        var running: [Int: Running] = [:]
        let clock = ContinuousClock()
        var lastStep = Duration.zero
        while true {
            condition.lock()
            while running.isEmpty && queue.isEmpty && !draining { condition.wait() }
            if draining && running.isEmpty && queue.isEmpty {
                finished = true
                condition.unlock()
                return
            }
            // Waiting jobs whose client left or whose time ran out never start.
            let now = clock.now
            var expired: [Job] = []
            queue.removeAll { job in
                let gone = job.isCancelled || job.deadline.map { $0 <= now } == true
                if gone { expired.append(job) }
                return gone
            }
            // First come, first served: the head waits for rows rather than being overtaken.
            let next = queue.first.flatMap { $0.rows <= loop.freeRows ? $0 : nil }
            if next != nil { queue.removeFirst() }
            metrics.queueDepth.set(to: Double(queue.count))
            condition.unlock()

            for job in expired where !job.isCancelled { job.end(.failed(.timeout(seconds: seconds(job)))) }
            if let job = next {
                // More waiting requests join this step, in order, up to `maxPrefillTokens` prompt tokens (at least
                // one request): a burst of arrivals is encoded together instead of waiting one step each (which
                // put the 16th of 16 simultaneous requests' first token over a second), while a flood of long
                // prompts cannot stall the running requests' next token without bound.
                var admitted = job.promptTokens
                admit(job, into: loop, running: &running)
                while admitted < limits.maxPrefillTokens,
                      let more = popHead(fitting: loop.freeRows, promptTokens: limits.maxPrefillTokens - admitted) {
                    admitted += more.promptTokens
                    admit(more, into: loop, running: &running)
                }
            }

            for (id, r) in running {
                if r.job.isCancelled {
                    _ = try? loop.cancel(request: id)
                    r.job.events.finish()
                    running[id] = nil
                } else if let deadline = r.job.deadline, deadline <= clock.now {
                    _ = try? loop.cancel(request: id)
                    r.job.end(.failed(.timeout(seconds: seconds(r.job))))
                    running[id] = nil
                }
            }
            metrics.batchRows.set(to: Double(loop.session.batch))
            metrics.runningRequests.set(to: Double(loop.count))
            guard loop.count > 0 else { continue }
            let t0 = clock.now
            let events: [DecodingLoopEvent]
            do { events = try loop.step() } catch {
                // The session itself failed: every running request ends with the error, and the loop goes on.
                for id in loop.requests { _ = try? loop.cancel(request: id) }
                for (_, r) in running { r.job.end(.failed(.internalError("decoding failed: \(error)"))) }
                running.removeAll()
                continue
            }
            lastStep = clock.now - t0
            metrics.stepTime.record(lastStep)
            for event in events {
                switch event {
                case .tokens(let id, let tokens):
                    guard let r = running[id] else { continue }
                    firstToken(r, running: &running, id: id)
                    metrics.generatedTokens.increment(by: Int64(tokens.count))
                    r.job.send(.tokens(tokens))
                case .finished(let id, let sequences):
                    guard let r = running.removeValue(forKey: id) else { continue }
                    if !r.sawToken { metrics.timeToFirstToken.record(clock.now - r.job.submitted) }
                    // Beam search streams no tokens: its tokens are counted when it finishes.
                    if case .generate(_, let o, _) = r.job.work, o.numBeams > 1 {
                        metrics.generatedTokens.increment(by: Int64(sequences.joined().reduce(0) { $0 + $1.tokens.count }))
                    }
                    r.job.end(.finished(sequences))
                case .failed(let id, let error):
                    guard let r = running.removeValue(forKey: id) else { continue }
                    r.job.end(.failed(.internalError("decoding failed: \(error)")))
                }
            }
            if loop.count == 0 {
                metrics.batchRows.set(to: 0)
                metrics.runningRequests.set(to: 0)
            }
        }
    }

    private struct Running {
        let job: Job
        var sawToken = false
    }

    private func firstToken(_ r: Running, running: inout [Int: Running], id: Int) {
        guard !r.sawToken else { return }
        running[id]?.sawToken = true
        metrics.timeToFirstToken.record(ContinuousClock.now - r.job.submitted)
    }

    private func admit(_ job: Job, into loop: SharedDecodingLoop, running: inout [Int: Running]) {
        do {
            switch job.work {
            case .embed(let prompts):
                // One input at a time: each vector equals the input's vector alone (no padding in its batch).
                let vectors = try prompts.map { try generator.model.encode(prompts: [$0]).meanPooled(row: 0) }
                job.end(.embedded(vectors))
            case .generate(let prompts, let options, let stops):
                let tokenizer = generator.tokenizer
                var hooks = GenerationHooks()
                if !stops.isEmpty {
                    hooks.shouldStop = { _, tokens in
                        let text = tokenizer.decodeSkippingSpecial(tokens)
                        return stops.contains { text.contains($0) }
                    }
                }
                let decoder = options.makeDecoder(promptCount: prompts.count, hooks: hooks,
                                                  eos: options.eosTokenId ?? generator.model.config.eosTokenId)
                let id = try loop.add(decoder, encoded: generator.model.encodeForDecoding(prompts: prompts))
                running[id] = Running(job: job)
            }
        } catch {
            job.end(.failed(.invalid("\(error)")))
        }
    }

    private func seconds(_ job: Job) -> Double {
        guard let d = job.deadline else { return 0 }
        let c = (d - job.submitted).components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// A value moved to another thread that alone uses it afterwards.
private struct HandOver<T>: @unchecked Sendable { let value: T }
