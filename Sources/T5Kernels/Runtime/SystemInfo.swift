// What a benchmark figure must be reported with: the CPU, OpenBLAS's kernel choice, threads, build, memory.
import CBLAS
import Foundation

public enum SystemInfo {
    /// `model name` from /proc/cpuinfo, or "unknown".
    public static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// The kernel set OpenBLAS picked at load (`openblas_get_corename()`), e.g. `SkylakeX` or `Zen`.
    public static var blasCoreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }


    /// The `-target-cpu` the engine was compiled for. Swift has no `#if` on target features, so the build says it with
    /// a define: `T5_TARGET_CPU_HASWELL` (Scripts/install.sh: `-target-cpu haswell`, AVX2 + FMA), or
    /// `T5_TARGET_CPU_SET` alone (`T5_TARGET_CPU=NAME` in Package.swift, name not recorded).
    public static var simdTarget: String {
        #if arch(x86_64)
        #if T5_TARGET_CPU_HASWELL
        return "haswell (AVX2, FMA)"
        #elseif T5_TARGET_CPU_SET
        return "custom (T5_TARGET_CPU)"
        #else
        return "baseline x86-64 (SSE2)"
        #endif
        #elseif arch(arm64)
        return "baseline arm64 (NEON)"
        #else
        return "baseline"
        #endif
    }

    /// CPU features the build requires (by its `-target-cpu`, as far as `simdTarget` knows it) that /proc/cpuinfo
    /// does not list: a non-empty answer means the first vector instruction will be an illegal instruction.
    public static var missingCPUFeatures: [String] {
        #if arch(x86_64) && T5_TARGET_CPU_HASWELL
        let required = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe", "popcnt", "abm"]
        #else
        let required: [String] = []
        #endif
        guard !required.isEmpty, let text = procFile("/proc/cpuinfo"),
              let flagsLine = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return required.filter { !flags.contains($0) }
    }

    /// How the Swift runtime is linked: "static" when no libswiftCore.so is mapped into this process, else
    /// "dynamic (DIR)" with the folder it was loaded from.
    public static var swiftRuntimeLinkage: String {
        guard let maps = procFile("/proc/self/maps") else { return "unknown" }
        for line in maps.split(separator: "\n") where line.hasSuffix("/libswiftCore.so") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            return "dynamic (\((path as NSString).deletingLastPathComponent))"
        }
        return "static"
    }

    /// A /proc file read to its end: `String(contentsOfFile:)` trusts the reported size and stops after one page.
    private static func procFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Size of the largest (last-level) data cache cpu0 sees, from sysfs, in bytes; 0 if unknown.
    public static var lastLevelCacheBytes: Int {
        var best = (level: 0, bytes: 0)
        for index in 0..<8 {
            let dir = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let level = procFile(dir + "level").flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                  let type = procFile(dir + "type"), !type.hasPrefix("Instruction"),
                  let size = procFile(dir + "size").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) else { continue }
            let multiplier = size.hasSuffix("K") ? 1 << 10 : size.hasSuffix("M") ? 1 << 20 : 1
            guard let value = Int(size.filter(\.isNumber)), level > best.level else { continue }
            best = (level, value * multiplier)
        }
        return best.bytes
    }

    /// Peak resident set size of this process (VmHWM), in bytes; 0 if unknown.
    public static var peakRSSBytes: Int { statusField("VmHWM:") }

    /// Current resident set size (VmRSS), in bytes; 0 if unknown.
    public static var currentRSSBytes: Int { statusField("VmRSS:") }

    private static func statusField(_ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let digits = line.dropFirst(key.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            return (digits.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }
}
