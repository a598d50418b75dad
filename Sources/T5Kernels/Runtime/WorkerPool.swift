// A persistent pool of threads that split one loop at a time, for the batch-1 decode step's ~100 small products.
// Waking threads per call (DispatchQueue.concurrentPerform) costs a sizeable part of a step; these spin briefly, then
// sleep (PERFORMANCE.md, "Worker pool: spin, then sleep").
import Foundation
import Synchronization

/// Runs `body(context, begin, end)` over chunks of `0..<count`, on the caller's thread and the pool's workers.
/// Chunks are taken dynamically, so a worker descheduled by another process does not stall the others.
/// One loop at a time: `parallelFor` is not re-entrant; concurrent callers (several decode loops on one runtime)
/// take turns under a lock, one kernel call each.
package final class WorkerPool: @unchecked Sendable {
    /// `(context, begin, end)`: a C function pointer, so dispatching allocates nothing and retains nothing.
    package typealias Body = @convention(c) (UnsafeRawPointer, Int, Int) -> Void

    /// Threads taking part in a loop, the caller's included.
    package let threadCount: Int
    /// The level of the kernels run on this pool (its runtime's).
    package let instructionSet: InstructionSet

    // The current loop, published by `ticket`. Every field is atomic so that a worker late from the previous loop
    // reads whole values; its claim then fails because the ticket has moved on.
    private let ticket = Atomic<Int>(0)       // loop number << 32 | next chunk index
    private let loopBody = Atomic<Int>(0)     // `Body` bit pattern
    private let loopContext = Atomic<Int>(0)
    private let loopCount = Atomic<Int>(0)
    private let loopChunk = Atomic<Int>(1)
    private let completed = Atomic<Int>(0)    // items of the current loop done so far
    private let sleepers = Atomic<Int>(0)     // workers asleep (or about to be) on `wakeUp`
    private let wakeUp = NSCondition()
    private let callerLock = NSLock()
    private let stopping = Atomic<Bool>(false)
    private var loopNumber = 2                // under `callerLock`; even, odd numbers mark a closed ticket

    /// How long a worker polls for the next loop before it sleeps: a decode step's gaps are much shorter.
    private static let spinIterations = 200_000

    package init(threads: Int, instructionSet: InstructionSet = .best) {
        threadCount = max(1, threads)
        self.instructionSet = instructionSet
        for index in 1..<threadCount {
            // Workers hold the pool strongly: it lives until `shutdown()`, which its `T5Runtime` calls when it goes.
            let thread = Thread { self.workerLoop() }
            thread.name = "t5-worker-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Calls `body(context, begin, end)` for chunks of `chunk` items covering `0..<count`, across the pool,
    /// and returns when all are done. Loops of one chunk run on the caller alone.
    package func parallelFor(count: Int, chunk: Int, context: UnsafeRawPointer, _ body: Body) {
        let chunk = max(1, chunk)
        if threadCount == 1 || count <= chunk || stopping.load(ordering: .relaxed) {
            body(context, 0, count)
            return
        }
        callerLock.lock()
        defer { callerLock.unlock() }
        // Close the ticket first (odd number, no chunk left), so a worker late from the previous loop cannot claim
        // a chunk while the fields change; then open the new loop under the next (even) number.
        loopNumber = (loopNumber + 2) & 0x3FFF_FFFE
        if loopNumber == 0 { loopNumber = 2 }
        ticket.store((loopNumber - 1) << 32 | 0xFFFF_FFFF, ordering: .sequentiallyConsistent)
        loopBody.store(unsafeBitCast(body, to: Int.self), ordering: .relaxed)
        loopContext.store(Int(bitPattern: context), ordering: .relaxed)
        loopCount.store(count, ordering: .relaxed)
        loopChunk.store(chunk, ordering: .relaxed)
        completed.store(0, ordering: .relaxed)
        ticket.store(loopNumber << 32, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            wakeUp.lock()
            wakeUp.broadcast()
            wakeUp.unlock()
        }
        _ = claimChunks()
        while completed.load(ordering: .acquiring) < count {}
    }

    /// Runs chunks of the published loop until none is left; returns that loop's number.
    private func claimChunks() -> Int {
        while true {
            let t = ticket.load(ordering: .acquiring)
            let index = t & 0xFFFF_FFFF
            let count = loopCount.load(ordering: .relaxed), chunk = loopChunk.load(ordering: .relaxed)
            let body = loopBody.load(ordering: .relaxed), context = loopContext.load(ordering: .relaxed)
            let begin = index * chunk
            if begin >= count || body == 0 { return t >> 32 }
            guard ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing).exchanged else {
                continue
            }
            // The claim succeeded, so the fields read above belong to this loop (its ticket had not moved).
            let f = unsafeBitCast(body, to: Body.self)
            let end = min(count, begin + chunk)
            f(UnsafeRawPointer(bitPattern: context)!, begin, end)
            completed.add(end - begin, ordering: .releasing)
        }
    }

    /// Ends the worker threads once they see it; the pool then runs every loop on the caller alone.
    /// Without it the workers, which hold the pool, would keep it and themselves alive forever.
    package func shutdown() {
        callerLock.lock()
        defer { callerLock.unlock() }
        stopping.store(true, ordering: .sequentiallyConsistent)
        loopNumber = (loopNumber + 2) & 0x3FFF_FFFE
        if loopNumber == 0 { loopNumber = 2 }
        ticket.store((loopNumber - 1) << 32 | 0xFFFF_FFFF, ordering: .sequentiallyConsistent)
        wakeUp.lock()
        wakeUp.broadcast()
        wakeUp.unlock()
    }

    private func workerLoop() {
        var finished = -1
        while !stopping.load(ordering: .acquiring) {
            var spins = 0
            while ticket.load(ordering: .acquiring) >> 32 == finished {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
                if spins >= Self.spinIterations {
                    sleep(whileLoopIs: finished)
                    spins = 0
                }
            }
            finished = claimChunks()
        }
    }

    /// Sleeps until a loop other than `finished` is published. `sleepers` is raised before `ticket` is re-read
    /// and the caller stores `ticket` before reading `sleepers` (both sequentially consistent): no missed wake-up.
    private func sleep(whileLoopIs finished: Int) {
        wakeUp.lock()
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while ticket.load(ordering: .sequentiallyConsistent) >> 32 == finished { wakeUp.wait() }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        wakeUp.unlock()
    }
}
