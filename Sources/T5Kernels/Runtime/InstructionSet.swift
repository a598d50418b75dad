// Which build of the hot kernels runs: the C kernels of CT5Kernels for AVX2 or AVX-512, picked by CPUID when the
// process starts, or the portable Swift SIMD kernels (any CPU; what arm64 and pre-AVX2 x86-64 use).
import CT5Kernels

/// The instruction-set level of the linear-layer kernels a runtime uses.
public enum InstructionSet: String, Sendable, CaseIterable {
    /// Portable Swift SIMD code, compiled for the build's target (SSE2 on x86-64 without `-target-cpu`, NEON on arm64).
    case portable
    /// AVX2 + FMA + F16C, 8 lanes (C kernels).
    case avx2
    /// AVX-512 F/BW/VL/DQ, 16 lanes (C kernels).
    case avx512

    /// The best level this CPU and operating system support.
    public static let best: InstructionSet = {
        switch t5k_cpu_level() {
        case Int32(T5K_LEVEL_AVX512): .avx512
        case Int32(T5K_LEVEL_AVX2): .avx2
        default: .portable
        }
    }()

    /// Whether this CPU can run `self`.
    public var isSupported: Bool {
        switch self {
        case .portable: true
        case .avx2: Self.best != .portable
        case .avx512: Self.best == .avx512
        }
    }

    /// The level's code in the C kernels (`T5K_LEVEL_*`).
    var kernelLevel: Int32 {
        switch self {
        case .portable: Int32(T5K_LEVEL_BASELINE)
        case .avx2: Int32(T5K_LEVEL_AVX2)
        case .avx512: Int32(T5K_LEVEL_AVX512)
        }
    }

    /// A short description for reports, e.g. "avx512 (C kernels, CPUID)".
    public var description: String {
        switch self {
        case .portable: "portable Swift SIMD (\(SystemInfo.simdTarget))"
        case .avx2: "avx2+fma (C kernels, chosen by CPUID)"
        case .avx512: "avx512 (C kernels, chosen by CPUID)"
        }
    }
}
