// Numerically stable softmax over one row of attention scores.
import Foundation

/// In-place softmax over `n` scores. Entries equal to `-infinity` (masked keys) get exactly zero weight.
/// At least one score must be finite; callers guarantee one unmasked key.
@inline(__always)
func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    var m = -Float.infinity
    for i in 0..<n where x[i] > m { m = x[i] }
    var sum: Float = 0
    for i in 0..<n {
        let e = exp(x[i] - m)
        x[i] = e
        sum += e
    }
    let inv = 1 / sum
    for i in 0..<n { x[i] *= inv }
}
