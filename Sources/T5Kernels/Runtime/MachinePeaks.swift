// The machine's limits as `t5 bench` measures them once per run, so that every figure can be shown against the bound
// that applies to it (PERFORMANCE.md, "Roofline in t5 bench"): read bandwidth with the runtime's threads, OpenBLAS's
// sgemm rate on a large square product, and the best rate of the engine's own linear kernels.
import CBLAS
import CT5Kernels
import Foundation
import T5Tensor

/// Measured peaks of this machine, for one runtime (its threads and kernel level) and OpenBLAS's current threads.
public struct MachinePeaks: Sendable, Equatable {
    /// Bytes per second read from memory by all threads at once (best pass over a buffer far larger than the cache).
    public let readBytesPerSecond: Double
    /// The buffer's size: the bandwidth holds for working sets larger than the last-level cache.
    public let bandwidthBufferBytes: Int
    /// Floating-point operations per second of `cblas_sgemm` on an `n × n × n` product (best run).
    public let sgemmFlopsPerSecond: Double
    public let sgemmSize: Int
    /// Best rate of the engine's linear kernels (f32 weights resident in cache; decode-sized and prompt-sized rows).
    public let kernelFlopsPerSecond: Double
    /// The kernels' rates as measured at different moments of the run (`kernelRate`), when more than one was taken:
    /// on a shared machine a core can be taken away for seconds, and one measurement then reads half the peak.
    public let kernelRatesSeen: [Double]
    /// Best rate of the integer kernels a model's int8 products use (`IntegerKernels`: W8A8, or 16-bit activations in
    /// decode), in multiply-adds x 2 per second, when measured: integer products run several times faster than f32 ones
    /// on VNNI, so an f32 peak would be no bound.
    public let int8OpsPerSecond: Double?

    public init(readBytesPerSecond: Double, bandwidthBufferBytes: Int, sgemmFlopsPerSecond: Double, sgemmSize: Int,
                kernelFlopsPerSecond: Double, kernelRatesSeen: [Double] = [], int8OpsPerSecond: Double? = nil) {
        self.readBytesPerSecond = readBytesPerSecond
        self.bandwidthBufferBytes = bandwidthBufferBytes
        self.sgemmFlopsPerSecond = sgemmFlopsPerSecond
        self.sgemmSize = sgemmSize
        self.kernelFlopsPerSecond = kernelFlopsPerSecond
        self.kernelRatesSeen = kernelRatesSeen
        self.int8OpsPerSecond = int8OpsPerSecond
    }

    /// The slowest kernel rate seen over the fastest (1 if only one was measured): far below 1 means the machine's
    /// arithmetic rate changed during the run, so fractions of the compute bound are uncertain.
    public var kernelRateSteadiness: Double {
        guard let low = kernelRatesSeen.min(), let high = kernelRatesSeen.max(), high > 0 else { return 1 }
        return low / high
    }

    /// The highest arithmetic rate seen on this machine (sgemm or the engine's kernels).
    public var peakFlopsPerSecond: Double { max(sgemmFlopsPerSecond, kernelFlopsPerSecond) }

    /// Which measurement `peakFlopsPerSecond` is: "sgemm" or "engine kernels".
    public var peakFlopsSource: String { sgemmFlopsPerSecond >= kernelFlopsPerSecond ? "sgemm" : "engine kernels" }

    /// The rate linear layers are bounded by: `peakFlopsPerSecond`, or where they run integer kernels (`integer`) those
    /// kernels' rate when it is higher (what they could reach), with the name of the measurement.
    public func peakRate(integer: Bool) -> (rate: Double, source: String) {
        if integer, let int8 = int8OpsPerSecond, int8 > peakFlopsPerSecond { return (int8, "int8 kernels") }
        return (peakFlopsPerSecond, peakFlopsSource)
    }

    /// Measures all three on `runtime`'s pool (bandwidth, kernels) and OpenBLAS (with its current thread setting).
    /// Takes about a second and allocates the bandwidth buffer (`bandwidthBufferBytes`) for that time. sgemm is timed
    /// before and after the bandwidth pass, and `earlierKernelRates` (from `kernelRate(runtime:)`, e.g. before a
    /// benchmark's timed runs) join the kernels' rate: each peak is the best seen, so a core taken away during one
    /// measurement does not halve the bound.
    /// `integerKernels`: also measure those kernels (`int8OpsPerSecond`).
    public static func measure(runtime: T5Runtime, earlierKernelRates: [Double] = [],
                               integerKernels: IntegerKernels? = nil) -> MachinePeaks {
        let bufferBytes = bandwidthBufferSize(lastLevelCacheBytes: SystemInfo.lastLevelCacheBytes)
        let sgemmN = 1536
        let sgemmFirst = sgemmRate(n: sgemmN)
        let bandwidth = readBandwidth(pool: runtime.pool, bytes: bufferBytes)
        let sgemm = max(sgemmFirst, sgemmRate(n: sgemmN))
        let kernels = earlierKernelRates + [kernelRate(pool: runtime.pool)]
        return MachinePeaks(
            readBytesPerSecond: bandwidth,
            bandwidthBufferBytes: bufferBytes,
            sgemmFlopsPerSecond: sgemm,
            sgemmSize: sgemmN,
            kernelFlopsPerSecond: kernels.max()!,
            kernelRatesSeen: kernels,
            int8OpsPerSecond: integerKernels.map { int8KernelRate($0, pool: runtime.pool) })
    }

    /// The engine's linear kernels' best rate on `runtime` (cached f32 weights, 2 MB of buffers, a fraction of a
    /// second): taken before a benchmark's timed runs, passed to `measure` after them.
    public static func kernelRate(runtime: T5Runtime) -> Double { kernelRate(pool: runtime.pool) }

    /// Four times the last-level cache, at least 512 MiB, at most 1 GiB (caches here are 32 to 260 MiB).
    package static func bandwidthBufferSize(lastLevelCacheBytes: Int) -> Int {
        min(max(4 * lastLevelCacheBytes, 512 << 20), 1 << 30)
    }

    private struct ReadJob {
        let base: UnsafePointer<Float>
        let level: Int32
        let sums: UnsafeMutablePointer<Float>
        let chunk: Int
    }

    /// Best of several passes of every pool thread summing its share of a large buffer (the C read loop): bytes per second.
    private static func readBandwidth(pool: WorkerPool, bytes: Int, passes: Int = 6) -> Double {
        let count = bytes / 4
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)   // touches every page before timing
        let chunk = 1 << 18                              // 1 MiB per claim: enough for each claim to stream
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: count / chunk + 1)
        defer { sums.deallocate() }
        // The widest vectors the CPU runs whatever the runtime's kernels: bandwidth is the machine's, not the kernels'.
        var job = ReadJob(base: buffer, level: InstructionSet.best.levelCode, sums: sums, chunk: chunk)
        var best = Double.infinity
        for _ in 0..<passes {
            let start = ContinuousClock.now
            withUnsafePointer(to: &job) { p in
                pool.parallelFor(count: count, chunk: chunk, context: UnsafeRawPointer(p)) { context, begin, end in
                    let j = context.assumingMemoryBound(to: ReadJob.self).pointee
                    j.sums[begin / j.chunk] = t5k_read_sum(j.base + begin, end - begin, j.level)
                }
            }
            best = min(best, seconds(ContinuousClock.now - start))
        }
        return Double(count * 4) / best
    }

    /// Best of several `n × n × n` sgemm runs after one warm-up: FLOP per second.
    private static func sgemmRate(n: Int, runs: Int = 4) -> Double {
        let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
        for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.25; b.pointer[i] = Float(i % 5) * 0.5 }
        var best = Double.infinity
        for run in 0...runs {
            let start = ContinuousClock.now
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(n),
                        1, a.pointer, Int32(n), b.pointer, Int32(n), 0, c.pointer, Int32(n))
            if run > 0 { best = min(best, seconds(ContinuousClock.now - start)) }
        }
        return 2 * Double(n) * Double(n) * Double(n) / best
    }

    /// The engine's linear kernels on f32 weights small enough to stay in cache (so arithmetic, not memory, limits
    /// them): the decode kernels at decode-sized row counts, and at 256 rows whatever a prompt's product uses (the
    /// packed-panel kernel on AVX-512); the best FLOP per second over those row counts.
    private static func kernelRate(pool: WorkerPool) -> Double {
        let out = 512, n = 512, maxRows = 256
        let w = FloatBuffer(count: out * n), x = FloatBuffer(count: maxRows * n), y = FloatBuffer(count: maxRows * out)
        for i in 0..<(out * n) { w.pointer[i] = Float(i % 13) * 0.01 }
        for i in 0..<(maxRows * n) { x.pointer[i] = Float(i % 11) * 0.01 }
        let matrix = PackedMatrix(values: UnsafeRawPointer(w.pointer), format: .f32, scales: nil, outFeatures: out, inFeatures: n)
        return bestProductRate(matrix, x: x.pointer, into: y.pointer, pool: pool)
    }

    /// The integer kernels on int8 weights in cache, at the same shapes and row counts as `kernelRate`, activations
    /// rounded in every call as in a model: the best multiply-adds x 2 per second. For `.a16` the 256-row product is
    /// the f32-activation panel kernel, as for a model's long prompts.
    private static func int8KernelRate(_ kernels: IntegerKernels, pool: WorkerPool) -> Double {
        let out = 512, n = 512, maxRows = 256
        let w = FloatBuffer(count: out * n), x = FloatBuffer(count: maxRows * n), y = FloatBuffer(count: maxRows * out)
        for i in 0..<(out * n) { w.pointer[i] = Float(i % 13) * 0.01 - 0.06 }
        for i in 0..<(maxRows * n) { x.pointer[i] = Float(i % 11) * 0.01 - 0.05 }
        let q = UnsafeMutablePointer<Int8>.allocate(capacity: out * n), scales = FloatBuffer(count: out)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: out)
        defer { q.deallocate(); sums.deallocate() }
        Int8Quantize.quantize(w.pointer, rows: out, cols: n, values: q, scales: scales.pointer, level: pool.instructionSet)
        int8RowSums(q, out: out, in: n, into: sums)
        let matrix = PackedMatrix(values: UnsafeRawPointer(q), format: .int8, scales: scales.pointer, outFeatures: out,
                                  inFeatures: n, rowSums: kernels == .w8a8 ? sums : nil)
        return bestProductRate(matrix, x: x.pointer, into: y.pointer, pool: pool)
    }

    /// `packedLinear` of `matrix` at 8, 16, 64 and 256 rows of `x` (decode steps row-independent, as a model runs
    /// them), after one untimed round each: the best multiply-adds x 2 per second. `x` and `y` hold 256 rows.
    private static func bestProductRate(
        _ matrix: PackedMatrix, x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, pool: WorkerPool
    ) -> Double {
        var best = 0.0
        for rows in [8, 16, 64, 256] {
            let calls = rows > 64 ? 5 : 20
            for round in 0..<4 {
                let start = ContinuousClock.now
                for _ in 0..<calls {
                    packedLinear(x, rows: rows, matrix, into: y, accumulate: false, pool: pool, rowIndependent: rows <= 64)
                }
                let elapsed = seconds(ContinuousClock.now - start)
                if round > 0 {
                    best = max(best, 2 * Double(rows * matrix.outFeatures * matrix.inFeatures * calls) / elapsed)
                }
            }
        }
        return best
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

extension InstructionSet {
    /// The level's code in the C kernels (`T5K_LEVEL_*`).
    var levelCode: Int32 {
        switch self {
        case .portable: Int32(T5K_LEVEL_BASELINE)
        case .avx2: Int32(T5K_LEVEL_AVX2)
        case .avx512: Int32(T5K_LEVEL_AVX512)
        }
    }
}
