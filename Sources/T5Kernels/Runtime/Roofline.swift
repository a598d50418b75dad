// The arithmetic of `t5 bench`'s roofline: the least time some work can take on a machine with `MachinePeaks`, and
// how close a measured time came to it.

/// The least time a piece of work can take, and what limits it.
public struct RooflineBound: Sendable, Equatable {
    public enum Limit: String, Sendable {
        /// Streaming the bytes at the measured read bandwidth takes longest.
        case memory
        /// The arithmetic at the measured peak rate takes longest.
        case compute
    }

    /// Seconds to stream the work's bytes at the measured bandwidth (0 if it has none to stream).
    public let memorySeconds: Double
    /// Seconds for its floating-point operations at the peak rate that applies.
    public let computeSeconds: Double

    public init(memorySeconds: Double, computeSeconds: Double) {
        self.memorySeconds = memorySeconds
        self.computeSeconds = computeSeconds
    }

    /// The tighter of the two bounds (the larger time).
    public var seconds: Double { max(memorySeconds, computeSeconds) }
    public var limit: Limit { memorySeconds >= computeSeconds ? .memory : .compute }

    /// Share of the bound reached by work that took `measuredSeconds`: 1 means at the machine's limit.
    public func fraction(measuredSeconds: Double) -> Double { measuredSeconds > 0 ? seconds / measuredSeconds : 0 }
}

public enum Roofline {
    /// One decode step over `batch` rows: every weight it reads streamed once for all rows (`weightBytes`), and
    /// `flopsPerRow` for each row, at the machine's peak arithmetic rate (the integer kernels' where the model's int8
    /// decode products run them: W8A8, or 16-bit activations).
    public static func decodeStep(weightBytes: Double, flopsPerRow: Double, batch: Int, peaks: MachinePeaks,
                                  integerKernels: IntegerKernels? = nil) -> RooflineBound {
        RooflineBound(memorySeconds: weightBytes / peaks.readBytesPerSecond,
                      computeSeconds: flopsPerRow * Double(batch) / peaks.peakRate(integer: integerKernels != nil).rate)
    }

    /// Tokens per second the bound allows at `batch` rows per step.
    public static func decodeTokensPerSecond(_ step: RooflineBound, batch: Int) -> Double {
        step.seconds > 0 ? Double(batch) / step.seconds : 0
    }

    /// The encoder's linear layers (`flops`) at the machine's best matrix-product rate, the faster of OpenBLAS's sgemm
    /// and the engine's own kernels: what long prompts are measured against. Not sgemm alone: the encoder runs the
    /// engine's panels on AVX-512, and an OpenBLAS that misdetects the CPU (`Prescott` kernels on Sapphire Rapids,
    /// 42 against 182 GFLOP/s) made the bound four times too loose and the encoder read 366-437 % of it.
    /// With int8 activations (W8A8) the bound is the int8 kernels' rate, when measured and higher; 16-bit activations
    /// are a decode-step product only (long prompts keep f32 ones), so they leave the encoder's bound as it is.
    public static func encoder(flops: Double, peaks: MachinePeaks, integerKernels: IntegerKernels? = nil) -> RooflineBound {
        RooflineBound(memorySeconds: 0, computeSeconds: flops / peaks.peakRate(integer: integerKernels == .w8a8).rate)
    }
}
