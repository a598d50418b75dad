// One request's run: encodes a batch of prompts once, then feeds the decoder a token per row per step.

/// Holds the KV caches and scratch of one generation. Create one per request; the model behind it is
/// shared. Not thread-safe: one task drives a session.
///
/// Each prompt can feed several decoder rows (`rowsPerPrompt`: beams, or samples for self-consistency);
/// they share the prompt's encoder output and cross-attention cache. Row `r` reads prompt `r / rowsPerPrompt`.
public final class DecodingSession {
    public let model: T5Model
    /// Decoder rows: prompts × rowsPerPrompt.
    public let batch: Int
    public let rowsPerPrompt: Int
    /// Decoder steps this session has room for.
    public let maxSteps: Int
    /// Prompt lengths, in tokens, per prompt.
    public let promptLengths: [Int]
    let state: DecoderState
    private var tokenScratch: [Int]

    /// Runs the encoder over `prompts` and precomputes cross-attention keys/values for `maxSteps` decoder steps.
    /// Throws before allocating if the prompts are invalid or the request exceeds `model.memoryLimitBytes`.
    public init(model: T5Model, prompts: [[Int]], maxSteps: Int, rowsPerPrompt: Int = 1, reorderable: Bool = false) throws {
        try model.validate(prompts: prompts)
        guard maxSteps >= 1 else {
            throw GenerationError.invalidOption(name: "maxSteps", value: "\(maxSteps)", reason: "must be at least 1")
        }
        guard rowsPerPrompt >= 1 else {
            throw GenerationError.invalidOption(name: "rowsPerPrompt", value: "\(rowsPerPrompt)", reason: "must be at least 1")
        }
        let c = model.config
        let p = PromptBatch(prompts, padId: c.padTokenId)
        let rows = p.batch * p.length
        let bytes = EncoderState.bytes(config: c, rows: rows, length: p.length, gated: model.isGated)
            + DecoderState.bytes(config: c, batch: p.batch * rowsPerPrompt, prompts: p.batch, maxSteps: maxSteps,
                                 encoderLength: p.length, gated: model.isGated, reorderable: reorderable)
        try model.requireMemory(bytes, for: "\(p.batch) prompt(s) of up to \(p.length) tokens × \(rowsPerPrompt) row(s) with \(maxSteps) decoder steps")
        self.model = model
        batch = p.batch * rowsPerPrompt
        self.rowsPerPrompt = rowsPerPrompt
        self.maxSteps = maxSteps
        promptLengths = p.lengths
        state = DecoderState(config: c, maxSteps: maxSteps, encoderRow: (0..<batch).map { $0 / rowsPerPrompt },
                             promptLengths: p.lengths, encoderLength: p.length, gated: model.isGated,
                             positionBiasTable: model.weights.decoderPositionBias.pointer)
        tokenScratch = [Int](repeating: 0, count: batch)
        // The encoder scratch lives only as long as this scope: the decoder needs just its keys/values.
        let encoder = EncoderState(config: c, rows: rows, length: p.length, gated: model.isGated)
        model.runEncoder(p, encoder)
        model.computeCrossAttentionCache(encoderOutput: encoder.x.pointer, rows: rows, into: state)
    }

    /// Steps taken so far.
    public var step: Int { state.step }

    /// Feeds `tokens[b]` to row `b` and computes the next-token logits of every row.
    public func step(_ tokens: [Int]) throws {
        guard tokens.count == batch else {
            throw GenerationError.invalidOption(name: "tokens", value: "\(tokens.count) tokens",
                                                reason: "expected one per row (\(batch))")
        }
        guard state.step < maxSteps else { throw GenerationError.stepLimitReached(limit: maxSteps) }
        let vocab = model.config.vocabSize
        for (b, id) in tokens.enumerated() where id < 0 || id >= vocab {
            throw GenerationError.tokenOutOfRange(row: b, position: state.step, id: id, vocabularySize: vocab)
        }
        for b in 0..<batch { tokenScratch[b] = tokens[b] }
        tokenScratch.withUnsafeBufferPointer { model.decoderStep($0.baseAddress!, state) }
    }

    /// Row `i` continues from what old row `sources[i]` has seen so far (beam search).
    /// Rows may only take the cache of rows of the same prompt.
    public func reorder(rows sources: [Int]) throws {
        guard sources.count == batch,
              sources.enumerated().allSatisfy({ $0.element >= 0 && $0.element < batch && $0.element / rowsPerPrompt == $0.offset / rowsPerPrompt })
        else {
            throw GenerationError.invalidOption(name: "rows", value: "\(sources)", reason: "each row must come from a row of the same prompt")
        }
        state.reorder(sources, innerDim: model.config.innerDim)
    }

    /// Logits of row `b` from the last step, valid until the next `step`.
    public func withLogits<R>(row b: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(b >= 0 && b < batch, "row out of range")
        let vocab = model.config.vocabSize
        return try body(UnsafeBufferPointer(start: state.logits.pointer + b * vocab, count: vocab))
    }

    /// Mutable logits of row `b` (logits processors edit them in place), valid until the next `step`.
    func withMutableLogits<R>(row b: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let vocab = model.config.vocabSize
        return try body(UnsafeMutableBufferPointer(start: state.logits.pointer + b * vocab, count: vocab))
    }

    /// A copy of row `b`'s logits from the last step.
    public func logits(row b: Int) -> [Float] { withLogits(row: b) { Array($0) } }
}
