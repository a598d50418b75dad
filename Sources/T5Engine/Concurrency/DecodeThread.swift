// Long synchronous work (a whole decode loop) on a thread the engine owns, so that awaiting it never holds one of
// Swift's cooperative threads: an app or server awaiting many generations keeps its concurrency pool free.
import Foundation
import Synchronization

/// Set when the awaiting task is cancelled; read by the decode loop before each step.
final class CancellationFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

enum DecodeThread {
    /// Stack of a decode thread: the loops keep their buffers on the heap, so the default is plenty.
    static let stackSize = 4 << 20

    /// Runs `body` on a new thread and suspends the caller until it returns. Cancelling the awaiting task sets
    /// the flag `body` receives; `body` decides where to stop (the decode loops check it before each token).
    static func run<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let thread = Thread {
                    do { continuation.resume(returning: try body(flag)) } catch { continuation.resume(throwing: error) }
                }
                thread.name = "t5-decode"
                thread.stackSize = stackSize
                thread.start()
            }
        } onCancel: {
            flag.set()
        }
    }
}
