// The last stage of a decode step: choosing one token from a row's processed scores.
import Foundation
import T5Kernels

/// Chooses a token from processed scores; nil when a score is NaN (corrupt weights). One per row, so a seeded
/// sampler's stream does not depend on what else is in the batch.
public protocol TokenSampler {
    mutating func choose(from scores: UnsafeMutableBufferPointer<Float>) -> Int?
}

/// The most likely token (greedy search).
public struct ArgmaxSampler: TokenSampler {
    public init() {}
    public func choose(from scores: UnsafeMutableBufferPointer<Float>) -> Int? { argmax(UnsafeBufferPointer(scores)) }
}

/// A token drawn with probability softmax(scores), from a seeded stream: the same seed gives the same draws.
public struct SeededSampler: TokenSampler {
    private var generator: SeededGenerator

    public init(seed: UInt64, stream: UInt64) { generator = SeededGenerator(seed: seed, stream: stream) }

    public mutating func choose(from scores: UnsafeMutableBufferPointer<Float>) -> Int? { sample(scores, using: &generator) }
}

/// Index of the largest value, the first one on ties (as torch.argmax); nil if any value is NaN.
public func argmax(_ values: UnsafeBufferPointer<Float>) -> Int? { firstArgmax(values) }

/// Draws an index with probability softmax(scores); -inf scores are never drawn. nil if a score is NaN.
func sample(_ scores: UnsafeMutableBufferPointer<Float>, using generator: inout SeededGenerator) -> Int? {
    var m = -Float.infinity
    for s in scores {
        if s.isNaN { return nil }
        if s > m { m = s }
    }
    guard m > -.infinity else { return nil }
    var total: Double = 0
    for s in scores where s > -.infinity { total += Double(exp(s - m)) }
    let target = generator.unit() * total
    var cumulative: Double = 0
    var last = 0
    for i in 0..<scores.count where scores[i] > -.infinity {
        cumulative += Double(exp(scores[i] - m))
        last = i
        if cumulative > target { return i }
    }
    return last
}
