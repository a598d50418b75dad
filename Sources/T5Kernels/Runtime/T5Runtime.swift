// The compute resources a model runs on: how many threads its kernels use, and the pool of threads that runs them.
// Passed in explicitly (models take one, the CLI builds one from --threads): the library reads no environment.
import CBLAS
import Foundation

/// Owns the worker threads of the engine's kernels. Share one runtime between models to share their threads,
/// or give models different runtimes to give each its own thread count. Immutable and `Sendable`.
///
/// Several decode loops may use one runtime at once: each kernel call takes the pool in turn (see `WorkerPool`).
/// OpenBLAS, which runs the encoder's large products, has one thread setting for the whole process; it is not
/// part of a runtime. Set it once with `T5Runtime.setBLASThreads(_:)` if its default (all cores) does not suit.
public final class T5Runtime: Sendable {
    /// Threads that take part in a kernel call, the calling thread included.
    public let threads: Int
    /// The kernels' instruction-set level: `InstructionSet.best` unless a lower one was asked for.
    public let instructionSet: InstructionSet
    package let pool: WorkerPool

    /// Most threads a runtime accepts; more than any machine this engine targets has cores.
    public static let maxThreads = 256

    /// A runtime with `threads` kernel threads (clamped to `1...maxThreads`); by default one per active core.
    /// `instructionSet` defaults to the best this CPU runs; a level the CPU lacks falls back to `best`.
    public init(threads: Int = T5Runtime.defaultThreadCount, instructionSet: InstructionSet = .best) {
        self.threads = min(max(1, threads), Self.maxThreads)
        self.instructionSet = instructionSet.isSupported ? instructionSet : .best
        pool = WorkerPool(threads: self.threads, instructionSet: self.instructionSet)
    }

    deinit { pool.shutdown() }

    /// One per active core, as the operating system reports them.
    public static var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// The runtime models use when none is given: `defaultThreadCount` threads, created on first use.
    /// A constant, not a setting: to choose the thread count, create a runtime and pass it in.
    public static let shared = T5Runtime()

    /// Sets OpenBLAS's thread count. Process-wide (OpenBLAS has a single setting), so call it once, before
    /// the first model runs, rather than per model.
    public static func setBLASThreads(_ n: Int) {
        openblas_set_num_threads(Int32(min(max(1, n), maxThreads)))
    }

    /// OpenBLAS's current thread count (process-wide).
    public static var blasThreads: Int { Int(openblas_get_num_threads()) }
}
