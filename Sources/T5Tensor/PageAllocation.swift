// Large scratch buffers and caches straight from the kernel's pages, so that freeing them gives them back at once.
// Through malloc, glibc kept a finished request's large buffers in its heap (its mmap threshold rises after the first
// large free) and peak RSS grew over the first requests: flan-t5-small int8, batch 8, prompt 256, 123 MB for one
// request, 142 MB for two, 149 MB for four (PERFORMANCE.md, "Scratch from the kernel's pages").
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

package enum PageAllocation {
    /// Blocks from this size come from mmap; smaller ones from malloc, which reuses them well.
    package static let threshold = 128 << 10

    /// `byteCount` zeroed bytes, 64-byte aligned; free with `deallocate(_:byteCount:)` and the same count.
    package static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let n = max(byteCount, 1)
        guard n >= threshold else {
            let p = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: n)
            return p
        }
        // Anonymous pages are zero and page-aligned; untouched ones cost nothing.
        guard let p = mmap(nil, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              p != UnsafeMutableRawPointer(bitPattern: -1) else {
            // As `UnsafeMutableRawPointer.allocate` does when memory runs out; requests are sized against the
            // memory budget before anything is allocated.
            fatalError("out of memory: mmap of \(n) bytes failed")
        }
        return p
    }

    package static func deallocate(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        let n = max(byteCount, 1)
        if n >= threshold { munmap(p, n) } else { p.deallocate() }
    }
}
