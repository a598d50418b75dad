// Element counts of untrusted shapes (checkpoint headers, caller-given values) without overflow.

package enum TensorShape {
    /// The product of `shape` (1 for a scalar), or nil if it overflows Int.
    package static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }
}
