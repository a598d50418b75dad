// One request's decoding as steps, so requests can share a decoding session (continuous batching): a decoder
// joins its rows, says which token each row is fed next, reads its rows' logits after every shared step, and
// leaves when it is done. Greedy, sampling and beam search are decoders; `SharedDecodingLoop` drives any mix.
import T5Modeling

/// A token a decoder chose at a step: sequence `sequence` of prompt `prompt` (indices within the request).
public struct TokenEvent: Sendable, Equatable {
    public var prompt: Int
    public var sequence: Int
    public var token: Int
}

/// One request's search over rows of a `DecodingSession` that other requests may share.
/// Used from the thread that drives the session.
public protocol RequestDecoder: AnyObject {
    /// Rows the decoder holds once started: its prompts × rows per prompt (beams or samples).
    var rowsNeeded: Int { get }
    /// Decoder steps the longest row can take (`maxNewTokens`): the session must allow that many.
    var maxSteps: Int { get }
    /// Joins one row set per prompt of `encoded` (every prompt of the request, in order).
    func start(in session: DecodingSession, encoded: EncodedPrompts) throws
    /// The token each of its rows is fed at the next step, as (row id, token); rows that are done are absent.
    var inputs: [(row: Int, token: Int)] { get }
    /// After a step that fed `inputs`: reads the rows' logits and chooses. Returns the tokens chosen for
    /// sequences that stream (greedy and sampling; beam search returns none until it finishes).
    func advance(in session: DecodingSession) throws -> [TokenEvent]
    /// True once nothing is left to decode; `finish` then returns the sequences.
    var isFinished: Bool { get }
    /// Leaves the session and returns, per prompt, its sequences (beam search: best first). `cancelled`
    /// ends rows still running with `.cancelled`.
    func finish(in session: DecodingSession, cancelled: Bool) throws -> [[GeneratedSequence]]
}

extension GenerationOptions {
    /// The decoder these options ask for (options already validated), for `promptCount` prompts.
    public func makeDecoder(promptCount: Int, hooks: GenerationHooks = GenerationHooks(), eos: Int) -> any RequestDecoder {
        numBeams > 1
            ? BeamSearchDecoder(options: self, promptCount: promptCount, eos: eos, hooks: hooks)
            : TokenSearchDecoder(options: self, promptCount: promptCount, eos: eos, hooks: hooks)
    }
}
