// A heap buffer of Float that frees itself; the owner of FloatTensors that had to be converted or copied.

/// Written only while a FloatTensor is being built, read-only afterwards, hence Sendable.
package final class OwnedFloatBuffer: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Float>
    package let count: Int

    package init(count: Int) {
        // At least one element so even an empty tensor gets a real, freeable pointer.
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        self.count = count
    }

    deinit {
        pointer.deallocate()
    }
}
