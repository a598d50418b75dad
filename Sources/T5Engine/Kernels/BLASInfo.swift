// Process-wide OpenBLAS settings and facts, for the CLI and benchmark reports.
import CBLAS

public enum BLAS {
    /// OpenBLAS's thread count is global to the process: set it once, before concurrent work.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel set OpenBLAS picked for this CPU (e.g. "SkylakeX", "Haswell", "Zen").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string (version, threading, dynamic arch).
    public static var configuration: String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config)
    }
}
