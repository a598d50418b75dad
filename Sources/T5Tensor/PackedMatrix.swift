// A weight matrix as the kernels read it: a pointer to its stored elements (f32, int8 with per-row scales, bf16, f16).

/// How the elements of a `PackedMatrix` are stored.
package enum PackedFormat: Sendable {
    case int8, bf16, f16
    /// Plain f32, so that f32 weights share the kernels (nothing to widen).
    case f32

    package var elementBytes: Int {
        switch self {
        case .int8: 1
        case .bf16, .f16: 2
        case .f32: 4
        }
    }
}

/// A `[out, in]` weight, row-major: `w[o, i] ≈ widen(values[o, i]) * (scales?[o] ?? 1)`.
package struct PackedMatrix {
    package let values: UnsafeRawPointer
    package let format: PackedFormat
    /// Per-output-row scales (int8); nil for the half formats.
    package let scales: UnsafePointer<Float>?
    package let outFeatures: Int
    package let inFeatures: Int
    /// Σ of each int8 row, present when the matrix multiplies int8-quantised activations (W8A8, the opt-in
    /// `int8Activations` mode; rows of at most 65,536 inputs); nil: f32 activations, or 16-bit ones in decode-sized
    /// products with AVX2 or AVX-512 (A16Matmul.swift).
    package let rowSums: UnsafePointer<Int32>?

    package init(values: UnsafeRawPointer, format: PackedFormat, scales: UnsafePointer<Float>?, outFeatures: Int, inFeatures: Int,
                 rowSums: UnsafePointer<Int32>? = nil) {
        precondition(rowSums == nil || (format == .int8 && scales != nil), "PackedMatrix: W8A8 needs int8 weights with scales")
        self.values = values
        self.format = format
        self.scales = scales
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.rowSums = rowSums
    }

    @inline(__always)
    package func scale(_ o: Int) -> Float { scales?[o] ?? 1 }
}
