// Many requests, one decoding session: each step feeds every running request's rows in one batched decoder
// step, then each request's decoder chooses its tokens. Requests join and leave between steps.
import T5Modeling

/// What happened to one request in a step of a `SharedDecodingLoop`.
public enum DecodingLoopEvent {
    /// Tokens the request's streaming sequences gained.
    case tokens(request: Int, [TokenEvent])
    /// The request is done and has left the session; per prompt, its sequences.
    case finished(request: Int, [[GeneratedSequence]])
    /// The request failed (e.g. non-finite logits) and has left the session; the others go on.
    case failed(request: Int, any Error)
}

/// Drives request decoders over one session. Not thread-safe: one thread adds, steps and cancels.
public final class SharedDecodingLoop {
    public let session: DecodingSession
    private var decoders: [(id: Int, decoder: any RequestDecoder)] = []
    private var nextId = 0
    /// Per session row: the token it is fed at the next step.
    private var pending: [Int]

    public init(session: DecodingSession) {
        self.session = session
        pending = Array(repeating: -1, count: session.capacity)
    }

    /// Requests running.
    public var count: Int { decoders.count }
    /// Rows free for new requests.
    public var freeRows: Int { session.capacity - session.batch }

    /// Starts `decoder` on `encoded` (all of its prompts); returns the request id events carry.
    /// Throws (and nothing joins) if the session lacks rows or steps for it.
    public func add(_ decoder: any RequestDecoder, encoded: EncodedPrompts) throws -> Int {
        guard decoder.rowsNeeded <= freeRows else {
            throw RequestError.invalidArgument(name: "rows", value: "\(decoder.rowsNeeded)",
                                               reason: "the session has room for \(freeRows) more of \(session.capacity)")
        }
        guard decoder.maxSteps <= session.maxSteps else {
            throw RequestError.invalidArgument(name: "maxNewTokens", value: "\(decoder.maxSteps)",
                                               reason: "the session allows at most \(session.maxSteps) steps per row")
        }
        try decoder.start(in: session, encoded: encoded)
        let id = nextId
        nextId += 1
        decoders.append((id, decoder))
        return id
    }

    /// One decoder step for every running request, then each chooses. Requests that finish or fail leave.
    public func step() throws -> [DecodingLoopEvent] {
        guard !decoders.isEmpty else { return [] }
        // A request whose rows' caches cannot grow within the session's memory limit fails alone.
        var events: [DecodingLoopEvent] = []
        decoders.removeAll { id, decoder in
            do {
                try session.prepare(rows: decoder.inputs.map(\.row))
                return false
            } catch {
                _ = try? decoder.finish(in: session, cancelled: true)
                events.append(.failed(request: id, error))
                return true
            }
        }
        guard !decoders.isEmpty else { return events }
        for (_, decoder) in decoders {
            for (row, token) in decoder.inputs { pending[row] = token }
        }
        let tokens = session.rows.map { pending[$0] }
        precondition(!tokens.contains(-1), "every session row belongs to a running decoder")
        try session.step(tokens)
        for row in session.rows { pending[row] = -1 }

        var kept: [(id: Int, decoder: any RequestDecoder)] = []
        for (id, decoder) in decoders {
            do {
                let chosen = try decoder.advance(in: session)
                if !chosen.isEmpty { events.append(.tokens(request: id, chosen)) }
                if decoder.isFinished {
                    events.append(.finished(request: id, try decoder.finish(in: session, cancelled: false)))
                } else {
                    kept.append((id, decoder))
                }
            } catch {
                _ = try? decoder.finish(in: session, cancelled: true)
                events.append(.failed(request: id, error))
            }
        }
        decoders = kept
        return events
    }

    /// Ends request `id` now (its client went away, or it timed out); returns what it had, rows ended `.cancelled`.
    @discardableResult
    public func cancel(request id: Int) throws -> [[GeneratedSequence]] {
        guard let i = decoders.firstIndex(where: { $0.id == id }) else {
            throw RequestError.invalidArgument(name: "request", value: "\(id)", reason: "not running")
        }
        let decoder = decoders.remove(at: i).decoder
        return try decoder.finish(in: session, cancelled: true)
    }

    /// Ids of the requests running, oldest first.
    public var requests: [Int] { decoders.map(\.id) }
}
