// A linear layer's weight, `[out, in]` as PyTorch stores it (y = x·Wᵀ): f32 (BLAS / SIMD), int8 with per-row scales,
// or bf16 / f16 at half width. The format is the checkpoint's: an I8 tensor with an F32 `<name>_scale` next to it is
// int8 (see `t5 convert`); BF16 / F16 matrices stay half width in memory, and f32 accumulation is used throughout.
import Foundation
import T5Tensor
import T5SafeTensors
import T5Kernels

/// Packed (int8 or half-precision) values, kept alive with the mapping they point into, and the int8 scales.
struct PackedTensor: @unchecked Sendable {
    let matrix: PackedMatrix
    let scales: FloatTensor?
    /// What keeps `matrix.values` alive: the store whose mapping holds them, or an owned copy.
    let owner: AnyObject
    /// `matrix.rowSums`' memory, in the W8A8 mode.
    var rowSums: RowSums? = nil
}

/// Σ of each row of an int8 matrix, computed once at load for the W8A8 kernels; read-only afterwards.
final class RowSums: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>

    init(_ values: UnsafeRawPointer, out: Int, in n: Int) {
        pointer = .allocate(capacity: max(out, 1))
        int8RowSums(values.assumingMemoryBound(to: Int8.self), out: out, in: n, into: pointer)
    }

    deinit { pointer.deallocate() }
}

package struct LinearWeight: Sendable {
    enum Storage: Sendable {
        case f32(FloatTensor)
        /// int8 with per-row scales, or bf16 / f16 used at half width (widened inside the kernels).
        case packed(PackedTensor)
    }

    let storage: Storage
    let outFeatures: Int
    let inFeatures: Int

    /// The tensor `name` with shape `[out, in]`: int8 when stored as I8 (its scales in `<name>_scale`), kept at half
    /// width when stored as BF16 or F16, otherwise served as f32 (used in place from the mapping). `int8Activations`:
    /// an int8 weight multiplies int8-quantised activations (W8A8); other formats ignore it.
    static func load(_ store: WeightStore, _ name: String, out: Int, in inFeatures: Int,
                     int8Activations: Bool = false) throws -> LinearWeight {
        let format: PackedFormat
        switch store.info(name)?.dtype {
        case .i8?: format = .int8
        case .bf16?: format = .bf16
        case .f16?: format = .f16
        default:
            let tensor = try store.floatTensor(name, shape: [out, inFeatures])
            return LinearWeight(storage: .f32(tensor), outFeatures: out, inFeatures: inFeatures)
        }
        let (info, bytes) = try store.rawTensor(name)
        guard info.shape == [out, inFeatures] else {
            throw WeightsError.shapeMismatch(name: name, expected: [out, inFeatures], actual: info.shape, path: store.directory.path)
        }
        let scales = format == .int8 ? try store.floatTensor(scaleName(of: name), shape: [out]) : nil
        let values = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!
        // Wider rows keep f32 activations: their 32-bit integer sums could overflow (no T5 comes near: xxl's d_ff is 10240).
        let w8a8 = format == .int8 && int8Activations && inFeatures <= w8a8MaxInFeatures
        let sums = w8a8 ? RowSums(values, out: out, in: inFeatures) : nil
        let matrix = PackedMatrix(values: values, format: format, scales: scales?.pointer, outFeatures: out, inFeatures: inFeatures,
                                  rowSums: sums.map { UnsafePointer($0.pointer) })
        return LinearWeight(storage: .packed(PackedTensor(matrix: matrix, scales: scales, owner: store, rowSums: sums)),
                            outFeatures: out, inFeatures: inFeatures)
    }

    /// Where `t5 convert` stores the per-row scales of the int8 tensor `name`.
    package static func scaleName(of name: String) -> String { name + "_scale" }

    /// The weight as the kernels read it (f32 weights are used in place from the mapping).
    var matrix: PackedMatrix {
        switch storage {
        case .f32(let t):
            PackedMatrix(values: UnsafeRawPointer(t.pointer), format: .f32, scales: nil, outFeatures: outFeatures, inFeatures: inFeatures)
        case .packed(let t): t.matrix
        }
    }

    /// Copies row `r` as f32 into `dst` (the embedding lookup).
    @inline(__always)
    func row(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32(let t): dst.update(from: t.pointer + r * inFeatures, count: inFeatures)
        case .packed(let t): packedRow(t.matrix, r, into: dst)
        }
    }

    /// This weight as f32 (widened or dequantized) with LoRA deltas added.
    func merged(_ factors: [LoRAFactors]) -> LinearWeight {
        let buffer = OwnedFloatBuffer(count: outFeatures * inFeatures)
        for r in 0..<outFeatures { row(r, into: buffer.pointer + r * inFeatures) }
        mergeLoRA(into: buffer.pointer, out: outFeatures, in: inFeatures, factors)
        let tensor = FloatTensor(shape: [outFeatures, inFeatures], pointer: UnsafePointer(buffer.pointer),
                                 count: outFeatures * inFeatures, owner: buffer)
        return LinearWeight(storage: .f32(tensor), outFeatures: outFeatures, inFeatures: inFeatures)
    }

    /// Bytes the weight occupies as stored.
    var storedBytes: Int {
        switch storage {
        case .f32: outFeatures * inFeatures * 4
        case .packed(let t): outFeatures * inFeatures * t.matrix.format.elementBytes + (t.scales == nil ? 0 : outFeatures * 4)
        }
    }

    /// How the weight is stored, for reports: "f32", "int8", "bf16" or "f16".
    var formatName: String {
        switch storage {
        case .f32: "f32"
        case .packed(let t): "\(t.matrix.format)"
        }
    }

    /// Whether the weight multiplies int8-quantised activations (W8A8).
    var usesInt8Activations: Bool {
        if case .packed(let t) = storage { return t.matrix.rowSums != nil }
        return false
    }
}

extension T5Model {
    /// `y[rows, out] = x[rows, in] · wᵀ (+ y when accumulate)`, on this model's runtime, whatever the weight's storage.
    /// `rowIndependent` (decoder steps): a row's result must not depend on the other rows of the batch.
    @inline(__always)
    func linear(
        _ x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, _ w: LinearWeight, out: Int, in inFeatures: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int? = nil, accumulate: Bool = false, rowIndependent: Bool = false
    ) {
        assert(out == w.outFeatures && inFeatures == w.inFeatures)
        packedLinear(x, rows: rows, ldx: ldx, w.matrix, into: y, ldy: ldy, accumulate: accumulate, pool: runtime.pool,
                     rowIndependent: rowIndependent)
    }

    /// Two or three products of the same input `x[rows, in]` in one pool dispatch, each into its own `y`
    /// (`packedLinearGroup`): the decode step's q/k/v and wi_0/wi_1.
    @inline(__always)
    func linear(
        _ x: UnsafePointer<Float>, rows: Int, _ w0: LinearWeight, into y0: UnsafeMutablePointer<Float>,
        _ w1: LinearWeight, into y1: UnsafeMutablePointer<Float>,
        _ w2: LinearWeight? = nil, into y2: UnsafeMutablePointer<Float>? = nil, rowIndependent: Bool
    ) {
        packedLinearGroup(x, rows: rows, w0.matrix, into: y0, w1.matrix, into: y1, w2?.matrix, into: y2,
                          pool: runtime.pool, rowIndependent: rowIndependent)
    }
}
