// A decoding run: rows that each feed the decoder one token per step, over prompts encoded once.
// Rows may join and leave between steps, so one session can serve requests that come and go (continuous batching).

/// Holds the KV caches and scratch of up to `capacity` decoder rows. Create one per request (or one per server
/// loop); the model behind it is shared. Not thread-safe: one thread drives a session.
///
/// A row is identified by the id `join` returns (its slot, in `0..<capacity`). Each step feeds one token to every
/// row in `rows`, in that order; each row has its own position, so rows that joined later simply sit at earlier
/// positions. Rows of one prompt (beams, samples) share that prompt's cross-attention cache.
public final class DecodingSession {
    public let model: T5Model
    /// Most rows at once.
    public let capacity: Int
    /// Tokens each row can be fed. Rows' caches grow as they advance (from 32 positions, doubling), so a large
    /// `maxSteps` costs nothing until rows use it.
    public let maxSteps: Int
    /// Whether `reorder` was accounted for in the memory check (it allocates a second self-attention cache).
    public let reorderable: Bool
    /// How the self-attention keys and values are stored.
    public let kvCache: KVCacheFormat
    /// Bytes this session may hold (scratch and caches); growth beyond it is refused with `RequestError.tooLarge`.
    public let memoryLimitBytes: Int
    /// Bytes of the scratch, allocated once.
    private let scratchBytes: Int
    let state: DecoderState
    /// Rows of the next step, in batch order.
    public private(set) var rows: [Int] = []
    /// Per slot: the prompt it reads (nil when free), and where its logits are after the last step (-1: none yet).
    private var prompt: [(encoded: EncodedPrompts, index: Int)?]
    private var logitsRow: [Int]
    /// Free slots, the lowest last (taken first).
    private var free: [Int]

    /// An empty session: rows join with `join(_:prompt:rows:)`. `maxPromptLength` sizes the attention scratch up
    /// front (a longer prompt joining later grows it). Throws if the scratch and every row's first cache chunk
    /// would exceed `model.memoryLimitBytes`; growth past it later makes `step` (or `prepare`) throw `tooLarge`.
    /// `kvCache` (the self-attention cache) defaults to the model's; the cross-attention caches are stored in the format of the
    /// model that encoded the prompts (`T5Model.kvCache`).
    public convenience init(model: T5Model, capacity: Int, maxSteps: Int, maxPromptLength: Int = 0, reorderable: Bool = false,
                            kvCache: KVCacheFormat? = nil) throws {
        try Self.check(capacity: capacity, maxSteps: maxSteps)
        let format = kvCache ?? model.kvCache
        let bytes = DecoderState.sessionBytes(config: model.config, capacity: capacity, maxSteps: min(maxSteps, SelfAttentionCache.firstChunk),
                                              encoderLength: maxPromptLength, gated: model.isGated, reorderable: false, kvCache: format)
        try model.requireMemory(bytes, for: "a session of \(capacity) row(s) (\(SelfAttentionCache.firstChunk) steps each to begin with)")
        self.init(unchecked: model, capacity: capacity, maxSteps: maxSteps, encoderLength: maxPromptLength, reorderable: reorderable,
                  kvCache: format)
    }

    /// Encodes `prompts` once and starts `rowsPerPrompt` rows for each (beams, or samples for self-consistency):
    /// rows `0..<prompts.count * rowsPerPrompt`, row `r` reading prompt `r / rowsPerPrompt`.
    /// Throws before allocating if the prompts are invalid or the request exceeds `model.memoryLimitBytes`.
    public convenience init(model: T5Model, prompts: [[Int]], maxSteps: Int, rowsPerPrompt: Int = 1, reorderable: Bool = false,
                            kvCache: KVCacheFormat? = nil) throws {
        try model.validate(prompts: prompts)
        try Self.check(capacity: rowsPerPrompt, maxSteps: maxSteps, capacityName: "rowsPerPrompt")
        try model.requireDecodingMemory(prompts: prompts, rowsPerPrompt: rowsPerPrompt, maxSteps: maxSteps, reorderable: reorderable,
                                        kvCache: kvCache)
        let p = PromptBatch(prompts, padId: model.config.padTokenId)
        self.init(unchecked: model, capacity: p.batch * rowsPerPrompt, maxSteps: maxSteps, encoderLength: p.length, reorderable: reorderable,
                  kvCache: kvCache ?? model.kvCache)
        let encoded = EncodedPrompts(model: model, p)
        for index in 0..<p.batch { _ = try join(encoded, prompt: index, rows: rowsPerPrompt) }
    }

    private init(unchecked model: T5Model, capacity: Int, maxSteps: Int, encoderLength: Int, reorderable: Bool, kvCache: KVCacheFormat) {
        self.model = model
        self.capacity = capacity
        self.maxSteps = maxSteps
        self.reorderable = reorderable
        self.kvCache = kvCache
        memoryLimitBytes = model.memoryLimitBytes
        scratchBytes = Int(DecoderState.scratchBytes(config: model.config, capacity: capacity, gated: model.isGated))
        state = DecoderState(config: model.config, capacity: capacity, maxSteps: maxSteps, encoderLength: encoderLength,
                             gated: model.isGated, positionBiasTable: model.weights.decoderPositionBias.pointer, kvCache: kvCache,
                             kernels: model.runtime.instructionSet)
        prompt = Array(repeating: nil, count: capacity)
        logitsRow = Array(repeating: -1, count: capacity)
        free = Array((0..<capacity).reversed())
        rows.reserveCapacity(capacity)
    }

    private static func check(capacity: Int, maxSteps: Int, capacityName: String = "capacity") throws {
        guard maxSteps >= 1 else {
            throw RequestError.invalidArgument(name: "maxSteps", value: "\(maxSteps)", reason: "must be at least 1")
        }
        guard capacity >= 1 else {
            throw RequestError.invalidArgument(name: capacityName, value: "\(capacity)", reason: "must be at least 1")
        }
    }

    // MARK: Rows

    /// Rows taking part in the next step.
    public var batch: Int { rows.count }

    /// Starts `count` new rows reading prompt `index` of `encoded`, at position 0; returns their ids, which are
    /// appended to `rows`. Throws if `encoded` is another model's, `index` is out of range, or the session is full.
    public func join(_ encoded: EncodedPrompts, prompt index: Int, rows count: Int = 1) throws -> [Int] {
        guard encoded.model === model else {
            throw RequestError.invalidArgument(name: "encoded", value: "prompts of another model", reason: "a session reads its own model's prompts")
        }
        guard index >= 0 && index < encoded.count else {
            throw RequestError.invalidArgument(name: "prompt", value: "\(index)", reason: "outside 0..<\(encoded.count)")
        }
        guard count >= 1 && count <= free.count else {
            throw RequestError.invalidArgument(name: "rows", value: "\(count)", reason: "the session has room for \(free.count) more of \(capacity)")
        }
        var ids: [Int] = []
        for _ in 0..<count {
            let slot = free.removeLast()
            state.assign(slot: slot, to: encoded, prompt: index)
            prompt[slot] = (encoded, index)
            logitsRow[slot] = -1
            rows.append(slot)
            ids.append(slot)
        }
        return ids
    }

    /// Ends row `id`: it leaves `rows` (the others keep their order) and its slot is free for a new row.
    public func leave(row id: Int) throws {
        guard let i = rows.firstIndex(of: id) else {
            throw RequestError.invalidArgument(name: "row", value: "\(id)", reason: "not a row of this session")
        }
        rows.remove(at: i)
        state.vacate(slot: id)
        prompt[id] = nil
        logitsRow[id] = -1
        free.append(id)
    }

    /// Tokens row `id` has been fed so far.
    public func position(of id: Int) -> Int {
        precondition(id >= 0 && id < capacity && prompt[id] != nil, "not a row of this session")
        return state.position[id]
    }

    /// Which prompt row `id` reads: the encoded prompts and the index among them.
    public func prompt(of id: Int) -> (encoded: EncodedPrompts, index: Int)? {
        id >= 0 && id < capacity ? prompt[id] : nil
    }

    // MARK: Steps

    /// Steps this session has run (for a session whose rows all started together: each row's position).
    public private(set) var step = 0

    /// Feeds `tokens[i]` to row `rows[i]` and computes the next-token logits of every row.
    public func step(_ tokens: [Int]) throws {
        let batch = rows.count
        guard tokens.count == batch else {
            throw RequestError.invalidArgument(name: "tokens", value: "\(tokens.count) tokens", reason: "expected one per row (\(batch))")
        }
        let vocab = model.config.vocabSize
        for (i, id) in tokens.enumerated() {
            let slot = rows[i]
            guard state.position[slot] < maxSteps else { throw RequestError.stepLimitReached(limit: maxSteps) }
            guard id >= 0 && id < vocab else {
                throw RequestError.tokenOutOfRange(row: slot, position: state.position[slot], id: id, vocabularySize: vocab)
            }
        }
        guard batch > 0 else { return }
        try prepare(rows: rows)
        for (i, slot) in rows.enumerated() {
            state.slots[i] = slot
            logitsRow[slot] = i
        }
        state.batch = batch
        tokens.withUnsafeBufferPointer { model.decoderStep($0.baseAddress!, state) }
        step += 1
    }

    /// Row `rows[i]` continues from what row `sources[i]` has seen so far (beam search keeps its best beams).
    /// Each source must read the same prompt as the row it replaces.
    public func reorder(rows sources: [Int]) throws {
        guard sources.count == rows.count else {
            throw RequestError.invalidArgument(name: "rows", value: "\(sources.count) sources", reason: "expected one per row (\(rows.count))")
        }
        try reorder(rows, from: sources)
    }

    /// Row `targets[i]` continues from what row `sources[i]` has seen so far; rows not in `targets` keep their
    /// caches, so one request's beams can be reordered while other requests share the session.
    /// Each source must be a row reading the same prompt as its target; targets must be distinct.
    public func reorder(_ targets: [Int], from sources: [Int]) throws {
        guard targets.count == sources.count, Set(targets).count == targets.count,
              zip(targets, sources).allSatisfy({ target, source in
                  guard source >= 0 && source < capacity, target >= 0 && target < capacity,
                        let s = prompt[source], let t = prompt[target] else { return false }
                  return s.encoded === t.encoded && s.index == t.index
              })
        else {
            throw RequestError.invalidArgument(name: "rows", value: "\(targets) from \(sources)",
                                               reason: "each target must be a distinct row continuing a row of the same prompt")
        }
        // A target continues at its source's position: it must hold as many (beams grow in step, so rarely needed).
        var plans: [(slot: Int, steps: Int)] = []
        var spares = 0
        for (target, source) in zip(targets, sources) where target != source {
            let steps = max(state.cache.steps[target], state.position[source])
            if steps > state.cache.steps[target] { plans.append((target, steps)) }
            spares += state.cache.hasSpare(slot: target) && steps == state.cache.steps[target] ? 0 : state.cache.slotBytes(steps: steps)
        }
        try requireGrowth(plans, extra: spares, what: "a reorder of \(targets.count) row(s)")
        for (slot, steps) in plans { state.grow(slot: slot, to: steps) }
        state.reorder(targets: targets, sources: sources)
    }

    // MARK: Memory

    /// Bytes the session holds now: scratch, every row's cache (and reorder copies), the bias table and score row.
    public var allocatedBytes: Int { scratchBytes + state.grownBytes }

    /// Makes room in the caches of rows `ids` for the token each is fed next (`step` does this for all its rows).
    /// Throws `RequestError.tooLarge`, with nothing grown, if that would take the session past `memoryLimitBytes`;
    /// a loop serving several requests calls it per request, so only the one that does not fit fails.
    public func prepare(rows ids: [Int]) throws {
        var plans: [(slot: Int, steps: Int)] = []
        for slot in ids {
            let p = state.position[slot], steps = state.cache.stepsNeeded(slot: slot, position: p)
            if steps > state.cache.steps[slot] { plans.append((slot, steps)) }
        }
        guard !plans.isEmpty else { return }
        try requireGrowth(plans, extra: 0, what: "growing the self-attention cache of \(plans.count) row(s) to \(plans.map(\.steps).max()!) steps")
        for (slot, steps) in plans { state.grow(slot: slot, to: steps) }
    }

    private func requireGrowth(_ plans: [(slot: Int, steps: Int)], extra: Int, what: String) throws {
        let need = allocatedBytes + state.growthBytes(plans) + extra
        guard need <= memoryLimitBytes else { throw RequestError.tooLarge(bytes: need, limit: memoryLimitBytes, what: what) }
    }

    // MARK: Logits

    /// Logits of row `id` from the last step, valid until the next `step`.
    public func withLogits<R>(row id: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let vocab = model.config.vocabSize
        return try body(UnsafeBufferPointer(start: state.logits.pointer + logitsIndex(id) * vocab, count: vocab))
    }

    /// Mutable logits of row `id` (logits processors edit them in place), valid until the next `step`.
    package func withMutableLogits<R>(row id: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let vocab = model.config.vocabSize
        return try body(UnsafeMutableBufferPointer(start: state.logits.pointer + logitsIndex(id) * vocab, count: vocab))
    }

    /// A copy of row `id`'s logits from the last step.
    public func logits(row id: Int) -> [Float] { withLogits(row: id) { Array($0) } }

    private func logitsIndex(_ id: Int) -> Int {
        precondition(id >= 0 && id < capacity && logitsRow[id] >= 0, "row \(id) has no logits: not a row of the last step")
        return logitsRow[id]
    }
}

extension T5Model {
    /// Throws before anything is allocated if encoding `prompts` and decoding `rowsPerPrompt` rows of each for
    /// `maxSteps` steps would exceed `memoryLimitBytes` (encoder scratch, cross-attention and self-attention caches):
    /// the bound a request's caches can grow to, although they only grow as far as its rows decode.
    public func requireDecodingMemory(prompts: [[Int]], rowsPerPrompt: Int, maxSteps: Int, reorderable: Bool,
                                      kvCache: KVCacheFormat? = nil) throws {
        let p = PromptBatch(prompts, padId: config.padTokenId)
        let (batch, overflow) = p.batch.multipliedReportingOverflow(by: rowsPerPrompt)
        let bytes = EncoderState.bytes(config: config, rows: p.encoderGroupRows, length: p.length, gated: isGated)
            + DecoderState.bytes(config: config, batch: overflow ? Int.max : batch, prompts: p.batch, maxSteps: maxSteps,
                                 encoderLength: p.length, gated: isGated, reorderable: reorderable,
                                 kvCache: kvCache ?? self.kvCache, crossKVCache: self.kvCache)
        try requireMemory(bytes, for: "\(p.batch) prompt(s) of up to \(p.length) tokens × \(rowsPerPrompt) row(s) with \(maxSteps) decoder steps")
    }
}
