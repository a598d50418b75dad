// What a safetensors header says about one tensor, after validation.
// Only the header validator creates these, so the shape product is known not to overflow.

public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Relative to the start of the data section, as in the header.
    public let dataOffsets: Range<Int>

    package init(name: String, dtype: SafetensorsDType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// Number of elements; 1 for a scalar (empty shape).
    public var elementCount: Int { shape.reduce(1, *) }
}
