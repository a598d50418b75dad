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


    /// The `-target-cpu` the engine was compiled for (`T5_TARGET_CPU` at build time), or "baseline".
    public static var simdTarget: String {
        #if T5_TARGET_CPU_SET
        return "custom (T5_TARGET_CPU)"
        #else
        return "baseline x86-64"
        #endif
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
