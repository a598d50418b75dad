// The runtime is explicit: each model gets the threads it was given, the library reads no environment, and
// awaiting a generation never holds one of Swift's cooperative threads.
import Foundation
import Synchronization
import Testing
@testable import T5Kernels
@testable import T5Engine

@Suite struct RuntimeTests {
    /// Threads that ran at least one chunk of a loop of slow chunks (each long enough for every worker to wake).
    static func participatingThreads(_ runtime: T5Runtime) -> Int {
        let seen = ThreadRecorder()
        withExtendedLifetime(seen) {
            runtime.pool.parallelFor(count: 48, chunk: 1, context: UnsafeRawPointer(Unmanaged.passUnretained(seen).toOpaque())) { context, _, _ in
                let recorder = Unmanaged<ThreadRecorder>.fromOpaque(context).takeUnretainedValue()
                recorder.record()
                usleep(2_000)
            }
        }
        return seen.count
    }

    @Test func twoModelsInOneProcessEachGetTheirThreadCount() throws {
        let one = T5Runtime(threads: 1), three = T5Runtime(threads: 3)
        let dir = Fixtures.modelDirectory("v11-gated")
        let a = try T5Model(directory: dir, runtime: one), b = try T5Model(directory: dir, runtime: three)
        #expect(a.runtime.threads == 1 && a.runtime.pool.threadCount == 1)
        #expect(b.runtime.threads == 3 && b.runtime.pool.threadCount == 3)
        #expect(Self.participatingThreads(a.runtime) == 1)
        #expect(Self.participatingThreads(b.runtime) == 3)
        // Same weights, different thread counts: the same greedy ids.
        let prompt = [[37, 129, 19, 127, 5, 1]]
        #expect(try a.generateGreedy(prompts: prompt, maxNewTokens: 12) == b.generateGreedy(prompts: prompt, maxNewTokens: 12))
    }

    @Test func threadCountsAreClampedNotTrapped() {
        #expect(T5Runtime(threads: 0).threads == 1)
        #expect(T5Runtime(threads: -5).threads == 1)
        #expect(T5Runtime(threads: 1 << 40).threads == T5Runtime.maxThreads)
    }

    /// With every cooperative thread of the test process awaiting a generation, other async work still runs:
    /// decoding happens on the engine's own threads.
    @Test func awaitingGenerationsLeavesTheCooperativePoolFree() async throws {
        let g = T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer())
        var options = GenerationOptions()
        options.maxNewTokens = 300
        options.minNewTokens = 300  // every call runs all its steps: far longer than the probe's wait
        let callOptions = options
        let finished = Counter()
        let calls = 2 * max(2, ProcessInfo.processInfo.activeProcessorCount)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<calls {
                group.addTask {
                    _ = try await g.generate(prompt: "prompt \(i)", options: callOptions)
                    finished.increment()
                }
            }
            // Give the calls time to start, then run a trivial task on the cooperative pool.
            try await Task.sleep(for: .milliseconds(50))
            let probe = Task { finished.value }
            let doneWhenProbeRan = await probe.value
            #expect(doneWhenProbeRan == 0, "the probe waited for \(doneWhenProbeRan) generation(s) to finish")
            try await group.waitForAll()
        }
        #expect(finished.value == calls)
    }

    /// The library targets read no environment variable and set none; only executables may.
    @Test func libraryTargetsReadNoEnvironment() throws {
        let sources = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let libraries = ["T5Tokenizers", "T5Tensor", "T5SafeTensors", "T5Kernels", "T5Modeling", "T5Generation", "T5Engine"]
        var offenders: [String] = []
        for library in libraries {
            let dir = sources.appendingPathComponent(library)
            let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
            #expect(!files.isEmpty, "no sources found for \(library)")
            for file in files {
                let text = try String(contentsOf: file, encoding: .utf8)
                for needle in ["processInfo.environment", "setenv(", "getenv(", "Context.environment"] where text.contains(needle) {
                    offenders.append("\(library)/\(file.lastPathComponent): \(needle)")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Distinct threads seen, under a lock (called from the pool's workers).
final class ThreadRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var threads = Set<UInt>()
    func record() {
        let id = UInt(bitPattern: Int(bitPattern: pthread_self()))
        lock.lock(); threads.insert(id); lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return threads.count }
}
