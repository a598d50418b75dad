// The arithmetic of `t5 bench`'s roofline (not its timings): bounds and fractions from given peaks, and the work
// figures of a model counted by hand from its config.json.
import Foundation
import Testing
@testable import T5Kernels
@testable import T5Engine

@Suite struct RooflineTests {
    /// 20 GB/s, sgemm 200 GFLOP/s, kernels 100 GFLOP/s.
    static let peaks = MachinePeaks(readBytesPerSecond: 20e9, bandwidthBufferBytes: 1 << 30, sgemmFlopsPerSecond: 200e9,
                                    sgemmSize: 1536, kernelFlopsPerSecond: 100e9)

    @Test func peakRateIsTheFasterOfSgemmAndTheKernels() {
        #expect(Self.peaks.peakFlopsPerSecond == 200e9)
        let kernelsFaster = MachinePeaks(readBytesPerSecond: 1, bandwidthBufferBytes: 1, sgemmFlopsPerSecond: 50e9,
                                         sgemmSize: 1, kernelFlopsPerSecond: 80e9)
        #expect(kernelsFaster.peakFlopsPerSecond == 80e9)
    }

    /// A rate measured at two moments: the peak is the faster, steadiness the ratio `t5 bench` warns under (0.75).
    @Test func kernelRatesSeenAtDifferentMomentsGiveTheFasterAndTheirRatio() {
        #expect(Self.peaks.kernelRateSteadiness == 1)
        let halved = MachinePeaks(readBytesPerSecond: 1, bandwidthBufferBytes: 1, sgemmFlopsPerSecond: 100e9,
                                  sgemmSize: 1, kernelFlopsPerSecond: 220e9, kernelRatesSeen: [220e9, 110e9])
        #expect(halved.peakFlopsPerSecond == 220e9)
        #expect(halved.kernelRateSteadiness == 0.5)
        let steady = MachinePeaks(readBytesPerSecond: 1, bandwidthBufferBytes: 1, sgemmFlopsPerSecond: 100e9,
                                  sgemmSize: 1, kernelFlopsPerSecond: 220e9, kernelRatesSeen: [200e9, 220e9])
        #expect(abs(steady.kernelRateSteadiness - 200.0 / 220) < 1e-12)
    }

    @Test func batchOneDecodeIsBoundByStreamingTheWeights() {
        // 154 MB per step at 20 GB/s: 7.7 ms; 77 MFLOP at 200 GFLOP/s: 0.385 ms.
        let step = Roofline.decodeStep(weightBytes: 154e6, flopsPerRow: 77e6, batch: 1, peaks: Self.peaks)
        #expect(step.limit == .memory)
        #expect(abs(step.seconds - 7.7e-3) < 1e-12)
        #expect(abs(Roofline.decodeTokensPerSecond(step, batch: 1) - 1 / 7.7e-3) < 1e-6)
        // 100 tok/s measured: 10 ms a step, 77 % of the bound.
        #expect(abs(step.fraction(measuredSeconds: 0.010) - 0.77) < 1e-12)
    }

    @Test func largeBatchesBecomeComputeBound() {
        // 64 rows x 77 MFLOP at 200 GFLOP/s = 24.64 ms > 7.7 ms of streaming.
        let step = Roofline.decodeStep(weightBytes: 154e6, flopsPerRow: 77e6, batch: 64, peaks: Self.peaks)
        #expect(step.limit == .compute)
        #expect(abs(step.seconds - 24.64e-3) < 1e-12)
        #expect(abs(Roofline.decodeTokensPerSecond(step, batch: 64) - 64 / 24.64e-3) < 1e-6)
        // At 8 rows memory still binds: 6.16 ms of arithmetic < 7.7 ms.
        #expect(Roofline.decodeStep(weightBytes: 154e6, flopsPerRow: 77e6, batch: 8, peaks: Self.peaks).limit == .memory)
    }

    @Test func encoderIsMeasuredAgainstItsLinearLayersAtTheFasterOfSgemmAndTheKernels() {
        let bound = Roofline.encoder(flops: 10e9, peaks: Self.peaks)
        #expect(bound.limit == .compute && abs(bound.seconds - 0.05) < 1e-12)
        #expect(Self.peaks.peakFlopsSource == "sgemm")
        // 62.5 ms measured: 80 %, i.e. 1.25x the linear layers' time.
        #expect(abs(bound.fraction(measuredSeconds: 0.0625) - 0.8) < 1e-12)
        #expect(bound.fraction(measuredSeconds: 0) == 0)
        // An OpenBLAS that picked slow kernels (42 GFLOP/s) beside the engine's 182: the bound is the engine's rate.
        let misdetected = MachinePeaks(readBytesPerSecond: 1, bandwidthBufferBytes: 1, sgemmFlopsPerSecond: 42e9,
                                       sgemmSize: 1, kernelFlopsPerSecond: 182e9)
        #expect(abs(Roofline.encoder(flops: 10e9, peaks: misdetected).seconds - 10e9 / 182e9) < 1e-12)
        #expect(misdetected.peakFlopsSource == "engine kernels")
    }

    /// Integer kernels bound what runs on them by their rate when it was measured and is higher; otherwise, and for
    /// every other model, the f32 peak binds. W8A8 runs the encoder on them too; 16-bit activations only decode steps.
    @Test func integerKernelsAreBoundByTheirRate() {
        let withInt8 = MachinePeaks(readBytesPerSecond: 20e9, bandwidthBufferBytes: 1, sgemmFlopsPerSecond: 200e9,
                                    sgemmSize: 1, kernelFlopsPerSecond: 100e9, int8OpsPerSecond: 400e9)
        #expect(withInt8.peakRate(integer: true) == (400e9, "int8 kernels"))
        #expect(withInt8.peakRate(integer: false) == (200e9, "sgemm"))
        #expect(Self.peaks.peakRate(integer: true) == (200e9, "sgemm"))
        let slowInt8 = MachinePeaks(readBytesPerSecond: 20e9, bandwidthBufferBytes: 1, sgemmFlopsPerSecond: 200e9,
                                    sgemmSize: 1, kernelFlopsPerSecond: 100e9, int8OpsPerSecond: 150e9)
        #expect(slowInt8.peakRate(integer: true) == (200e9, "sgemm"))
        // 10 GFLOP of encoder products: 25 ms at 400 GOP/s with W8A8, 50 ms at the f32 peak otherwise.
        #expect(abs(Roofline.encoder(flops: 10e9, peaks: withInt8, integerKernels: .w8a8).seconds - 0.025) < 1e-12)
        #expect(abs(Roofline.encoder(flops: 10e9, peaks: withInt8, integerKernels: .a16).seconds - 0.05) < 1e-12)
        #expect(abs(Roofline.encoder(flops: 10e9, peaks: withInt8).seconds - 0.05) < 1e-12)
        // 64 rows x 77 MFLOP: 12.32 ms at 400 GOP/s (compute still binds over 7.7 ms of streaming), for both kinds.
        for kernels in [IntegerKernels.w8a8, .a16] {
            let step = Roofline.decodeStep(weightBytes: 154e6, flopsPerRow: 77e6, batch: 64, peaks: withInt8,
                                           integerKernels: kernels)
            #expect(step.limit == .compute && abs(step.seconds - 12.32e-3) < 1e-12)
        }
        #expect(abs(Roofline.decodeStep(weightBytes: 154e6, flopsPerRow: 77e6, batch: 64, peaks: withInt8).seconds
            - 24.64e-3) < 1e-12)
    }

    /// Which integer kernels a model runs: W8A8 when asked for, 16-bit activations in decode with AVX2 or AVX-512
    /// (not on the portable kernels), none without int8 weights.
    @Test func integerKernelsFollowTheWeightsAndTheLevel() {
        #expect(IntegerKernels.used(int8Weights: true, int8Activations: true, level: .avx2) == .w8a8)
        #expect(IntegerKernels.used(int8Weights: true, int8Activations: false, level: .avx512) == .a16)
        #expect(IntegerKernels.used(int8Weights: true, int8Activations: false, level: .avx2) == .a16)
        #expect(IntegerKernels.used(int8Weights: true, int8Activations: false, level: .portable) == nil)
        #expect(IntegerKernels.used(int8Weights: false, int8Activations: false, level: .avx512) == nil)
    }

    @Test func bandwidthBufferIsFourLastLevelCachesWithinLimits() {
        #expect(MachinePeaks.bandwidthBufferSize(lastLevelCacheBytes: 0) == 512 << 20)
        #expect(MachinePeaks.bandwidthBufferSize(lastLevelCacheBytes: 32 << 20) == 512 << 20)
        #expect(MachinePeaks.bandwidthBufferSize(lastLevelCacheBytes: 200 << 20) == 800 << 20)
        #expect(MachinePeaks.bandwidthBufferSize(lastLevelCacheBytes: 260 << 20) == 1 << 30)
    }

    /// v11-gated: d_model 64, inner 4 x 16 = 64, d_ff 128 (gated), vocab 512, 2 + 2 layers, untied head.
    @Test(arguments: [("v11-gated", 4), ("v11-bf16", 2)])
    func workFiguresMatchTheConfigCountedByHand(_ name: String, _ bytesPerWeight: Int) throws {
        let model = try Fixtures.model(name)
        let d = 64, inner = 64, ff = 128, vocab = 512, layers = 2
        // Per decoder layer: self q, k, v, o; cross q, o; wi_0, wi_1, wo. Plus the head.
        let stepWeights = layers * (4 * inner * d + 2 * inner * d + 3 * ff * d) + vocab * d
        #expect(stepWeights == 131_072)
        #expect(model.decodeStepWeightBytes == stepWeights * bytesPerWeight)
        #expect(model.decodeStepFLOPsPerRow == 2 * stepWeights)
        // Encoder layers' q, k, v, o, wi_0, wi_1, wo, and each decoder layer's cross-attention k and v.
        let encodeWeights = layers * (4 * inner * d + 3 * ff * d) + layers * 2 * inner * d
        #expect(model.encoderLinearFLOPs(tokens: 10) == 2 * 10 * encodeWeights)
        // A step at position 5 over a 7-token prompt reads 6 self and 7 cross positions of keys and values per layer.
        #expect(model.decodeStepCacheBytes(position: 5, promptLength: 7) == layers * (6 + 7) * 2 * inner * 4)
    }

    @Test func int8CacheBytesCountTheirScales() throws {
        let model = try T5Model(directory: Fixtures.modelDirectory("v11-gated"), kvCache: .int8)
        // 4 heads: each position of each layer holds 2 x 64 int8 values and 2 x 4 f32 scales.
        #expect(model.decodeStepCacheBytes(position: 0, promptLength: 3) == 2 * (1 + 3) * (2 * 64 + 2 * 4 * 4))
    }
}
