// A linear layer's weight, `[out, in]` as PyTorch stores it (y = x·Wᵀ): f32 (BLAS / SIMD) or int8 with per-row scales.
// The format is chosen by the checkpoint: an I8 tensor with an F32 `<name>_scale` next to it is int8 (see `t5 convert`).
import Foundation

/// Int8 values and their per-output-row scales, kept alive with the mapping they point into.
struct Int8Tensor: @unchecked Sendable {
    let matrix: Int8Matrix
    let scales: FloatTensor
    /// The store whose mapping holds `matrix.values`.
    let owner: WeightStore
}

struct LinearWeight: Sendable {
    enum Storage: Sendable {
        case f32(FloatTensor)
        case int8(Int8Tensor)
    }

    let storage: Storage
    let outFeatures: Int
    let inFeatures: Int

    /// The tensor `name` with shape `[out, in]`: int8 when stored as I8 (its scales in `<name>_scale`), otherwise
    /// widened to (or served as) f32.
    static func load(_ store: WeightStore, _ name: String, out: Int, in inFeatures: Int) throws -> LinearWeight {
        guard let info = store.info(name), info.dtype == .i8 else {
            let tensor = try store.floatTensor(name, shape: [out, inFeatures])
            return LinearWeight(storage: .f32(tensor), outFeatures: out, inFeatures: inFeatures)
        }
        let (_, bytes) = try store.rawTensor(name)
        guard info.shape == [out, inFeatures] else {
            throw WeightsError.shapeMismatch(name: name, expected: [out, inFeatures], actual: info.shape, path: store.directory.path)
        }
        let scales = try store.floatTensor(scaleName(of: name), shape: [out])
        let values = bytes.baseAddress.map { $0.assumingMemoryBound(to: Int8.self) } ?? UnsafePointer(bitPattern: 1)!
        let matrix = Int8Matrix(values: values, scales: scales.pointer, outFeatures: out, inFeatures: inFeatures)
        return LinearWeight(storage: .int8(Int8Tensor(matrix: matrix, scales: scales, owner: store)),
                            outFeatures: out, inFeatures: inFeatures)
    }

    /// Where `t5 convert` stores the per-row scales of the int8 tensor `name`.
    static func scaleName(of name: String) -> String { name + "_scale" }

    /// Copies row `r` as f32 into `dst` (the embedding lookup).
    @inline(__always)
    func row(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32(let t): dst.update(from: t.pointer + r * inFeatures, count: inFeatures)
        case .int8(let t): int8Row(t.matrix, r, into: dst)
        }
    }

    /// Bytes the weight occupies as stored.
    var storedBytes: Int {
        switch storage {
        case .f32: outFeatures * inFeatures * 4
        case .int8: outFeatures * inFeatures + outFeatures * 4
        }
    }
}

/// Whether f32 products of up to `f32SmallBatchMaxRows` rows (decode steps) use the engine's SIMD kernel on its worker
/// pool (default) or OpenBLAS's sgemv/sgemm (`T5_F32_GEMV=blas`, kept for comparison).
let f32MatvecUsesPool = ProcessInfo.processInfo.environment["T5_F32_GEMV"] != "blas"

/// `y[rows, out] = x[rows, in] · wᵀ (+ y when accumulate)`, dispatched on the weight's storage.
@inline(__always)
func linear(
    _ x: UnsafePointer<Float>, rows: Int, _ w: LinearWeight, out: Int, in inFeatures: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool = false
) {
    assert(out == w.outFeatures && inFeatures == w.inFeatures)
    switch w.storage {
    case .f32(let t):
        if rows <= f32SmallBatchMaxRows && f32MatvecUsesPool {
            f32SmallBatch(x, rows: rows, t.pointer, out: out, in: inFeatures, into: y, accumulate: accumulate)
        } else {
            linear(x, rows: rows, t.pointer, out: out, in: inFeatures, into: y, accumulate: accumulate)
        }
    case .int8(let t):
        int8Linear(x, rows: rows, t.matrix, into: y, accumulate: accumulate)
    }
}
