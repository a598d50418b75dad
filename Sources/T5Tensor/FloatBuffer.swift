// A fixed-size, zero-initialised Float buffer that owns its memory; scratch space for the forward pass.

/// Allocated once per run state and reused for every token, so the hot loop never allocates.
package final class FloatBuffer {
    package let count: Int
    package let pointer: UnsafeMutablePointer<Float>

    package init(count: Int) {
        self.count = count
        // 64-byte alignment keeps AVX-512 loads in the kernels on one cache line; large buffers are pages of their
        // own, given back when the buffer goes (`PageAllocation`).
        let raw = PageAllocation.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { PageAllocation.deallocate(UnsafeMutableRawPointer(pointer), byteCount: max(count, 1) * MemoryLayout<Float>.stride) }

    /// A copy of the contents, for results handed back to callers and for tests.
    package func toArray(count n: Int? = nil) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: n ?? count))
    }
}
