// Fixed-size per-slot arrays of the decoder's state: raw pointers, so the step reads them without bounds checks or
// reference counting.

extension UnsafeMutablePointer {
    /// `count` elements, every one `value`; the caller deallocates.
    package static func filled(with value: Pointee, count: Int) -> UnsafeMutablePointer<Pointee> {
        let p = allocate(capacity: count)
        p.initialize(repeating: value, count: count)
        return p
    }
}
