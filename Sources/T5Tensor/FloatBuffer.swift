// A fixed-size, zero-initialised Float buffer that owns its memory; scratch space for the forward pass.

/// Allocated once per run state and reused for every token, so the hot loop never allocates.
package final class FloatBuffer {
    package let count: Int
    package let pointer: UnsafeMutablePointer<Float>

    package init(count: Int) {
        self.count = count
        // 64-byte alignment keeps AVX-512 loads in the kernels on one cache line.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// A copy of the contents, for results handed back to callers and for tests.
    package func toArray(count n: Int? = nil) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: n ?? count))
    }
}
