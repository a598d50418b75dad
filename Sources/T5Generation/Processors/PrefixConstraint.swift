// Constrained decoding from outside the engine: a caller's function names the tokens allowed at each step
// (transformers' `prefix_allowed_tokens_fn` / `PrefixConstrainedLogitsProcessor`).

/// The tokens a row may choose next, given the prompt's index in the batch and the row's decoder input so far
/// (decoder start token first, as transformers passes `input_ids`). Runs on the decoding thread, once per row and
/// step; it must return at least one token.
public struct PrefixAllowedTokens: Sendable, Equatable {
    public let allowed: @Sendable (_ prompt: Int, _ sequence: [Int]) -> [Int]
    /// Two values are equal when made by the same `init` call (closures cannot be compared).
    private let identity = Identity()

    public init(_ allowed: @escaping @Sendable (_ prompt: Int, _ sequence: [Int]) -> [Int]) { self.allowed = allowed }

    public static func == (a: PrefixAllowedTokens, b: PrefixAllowedTokens) -> Bool { a.identity === b.identity }

    private final class Identity: Sendable {}
}

/// Every token the function does not allow gets -inf; allowed ones keep their score. Ids outside the vocabulary
/// are ignored. An empty answer leaves nothing to choose: `violation` records it, and the search reports it.
public struct PrefixConstrainedProcessor: LogitsProcessor {
    public let constraint: PrefixAllowedTokens
    /// The first row and step whose allowed list was empty or held only ids outside the vocabulary.
    public private(set) var violation: (prompt: Int, generated: Int)?
    private var keep: [Bool] = []

    public init(_ constraint: PrefixAllowedTokens) { self.constraint = constraint }

    public mutating func process(_ scores: UnsafeMutableBufferPointer<Float>, context: LogitsContext) {
        let allowed = constraint.allowed(context.prompt, context.sequence)
        if keep.count != scores.count { keep = [Bool](repeating: false, count: scores.count) }
        var any = false
        for t in allowed where t >= 0 && t < scores.count { keep[t] = true; any = true }
        if !any, violation == nil { violation = (context.prompt, context.generated) }
        for i in 0..<scores.count {
            if !keep[i] { scores[i] = -.infinity }
            keep[i] = false
        }
    }
}
