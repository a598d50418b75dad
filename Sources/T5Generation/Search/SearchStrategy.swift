// How tokens are chosen over a decoding session: the strategy is picked once from the options.
import T5Modeling

/// A search over a `DecodingSession`: greedy or sampled (one token per row per step) or beam search.
/// Each returns, per prompt, its sequences (beam search: best first).
public protocol SearchStrategy {
    func run(model: T5Model, prompts: [[Int]], hooks: GenerationHooks) throws -> [[GeneratedSequence]]
}

extension GenerationOptions {
    /// The strategy these options ask for (options already validated).
    public func searchStrategy() -> any SearchStrategy {
        numBeams > 1 ? BeamSearch(options: self) : TokenSearch(options: self)
    }
}
