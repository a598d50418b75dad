// Two or three products of the same input (a decode step's q/k/v, wi_0/wi_1) in one pool dispatch, whatever kernel
// runs them: their output columns are split as one range, so each thread streams one run of weights and the pool
// synchronises once, not once per product (PERFORMANCE.md, "Decode products grouped per dispatch").

/// Up to three C jobs of one kind, `stride` bytes apart from `first`, with their output column counts, and the kernel
/// that computes columns `begin..<end` of one of them. Passed to the pool by pointer, so dispatch allocates nothing.
struct GroupedProducts {
    let first: UnsafeRawPointer
    let stride: Int
    let outputs: (Int, Int, Int)
    let count: Int
    let run: @convention(c) (UnsafeRawPointer, Int, Int) -> Void

    /// `jobs`' first `count` parts (`count` from 1 to 3) with their output column counts.
    static func run<Job>(
        _ jobs: inout (Job, Job, Job), outputs: (Int, Int, Int), count: Int, pool: WorkerPool,
        _ kernel: @convention(c) (UnsafeRawPointer, Int, Int) -> Void
    ) {
        withUnsafePointer(to: &jobs) { p in
            var group = GroupedProducts(first: UnsafeRawPointer(p), stride: MemoryLayout<Job>.stride, outputs: outputs,
                                        count: count, run: kernel)
            group.dispatch(pool: pool)
        }
    }

    /// Output columns of part `i`.
    func outputs(_ i: Int) -> Int { i == 0 ? outputs.0 : i == 1 ? outputs.1 : outputs.2 }

    /// All parts' columns across the pool, one run of whole 8-row tiles per thread (`poolChunk`).
    mutating func dispatch(pool: WorkerPool) {
        let total = (0..<count).reduce(0) { $0 + outputs($1) }
        withUnsafePointer(to: &self) { p in
            pool.parallelFor(count: total, chunk: poolChunk(outputs: total, pool), context: UnsafeRawPointer(p)) {
                context, begin, end in
                let g = context.assumingMemoryBound(to: GroupedProducts.self).pointee
                var start = 0
                for i in 0..<g.count {
                    let out = g.outputs(i), b = max(begin, start), e = min(end, start + out)
                    if b < e { g.run(g.first + i * g.stride, b - start, e - start) }
                    start += out
                }
            }
        }
    }
}
