// An immutable f32 tensor whose storage (a file mapping or an owned buffer) is kept alive by `owner`.
// Copying the struct is cheap: it shares the storage.

/// Sendable because the storage is never written after the tensor is created.
public struct FloatTensor: @unchecked Sendable {
    public let shape: [Int]
    /// Row-major elements. Valid only while this tensor (or a copy) is alive: Swift may release a value
    /// right after its last use, so read through `withUnsafeBufferPointer` or `withExtendedLifetime(tensor)`,
    /// never keep `pointer` from a temporary such as `try store.floatTensor(...).pointer`.
    public let pointer: UnsafePointer<Float>
    public let count: Int
    /// The MappedFile / SafetensorsFile or OwnedFloatBuffer that `pointer` points into.
    private let owner: AnyObject

    package init(shape: [Int], pointer: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.shape = shape
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }

    /// A tensor holding a copy of `values`; nil if `values.count` is not the product of `shape`.
    /// For tests and for tensors computed in code rather than loaded.
    public init?(shape: [Int], values: [Float]) {
        guard let count = TensorShape.elementCount(shape), count == values.count,
              shape.allSatisfy({ $0 >= 0 })
        else { return nil }
        let storage = OwnedFloatBuffer(count: count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.update(from: base, count: count) }
        }
        self.init(shape: shape, pointer: UnsafePointer(storage.pointer), count: count, owner: storage)
    }

    /// Calls `body` with the elements while the storage is guaranteed alive; do not let the buffer escape.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) {
            try body(UnsafeBufferPointer(start: pointer, count: count))
        }
    }

    /// A copy of the elements, row-major.
    public var values: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }
}
