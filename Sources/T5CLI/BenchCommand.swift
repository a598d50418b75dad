// `t5 bench`: load time, encoder time, time to first token, decode speed and peak memory on fixed prompt ids.
// Prompt ids (no tokenizer needed; Scripts/bench_peers.py feeds peers the same ones): row b of length L is
//   ids[i] = 3 + (i * 7919 + b * 104729 + 13) % R  for i < L - 1,  then ids[L - 1] = eos_token_id,
// with R = min(32000, vocab_size - 3): 32000 for every T5 checkpoint, fewer for small vocabularies (the demo model).
// Decoding is greedy and never stops at EOS, so every run produces exactly --new-tokens tokens per row.
import ArgumentParser
import Foundation
import T5Engine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure load, encoder, first-token and decode speed on fixed prompt ids.",
        discussion: """
            Prompt row b of length L: ids[i] = 3 + (i*7919 + b*104729 + 13) % R for i < L-1, then EOS, \
            with R = min(32000, vocab_size - 3).
            Batch-1 decode tok/s excludes the first token; batch-N tok/s is N*new-tokens over encoder plus all steps.
            Figures are medians over --reps runs after --warmup runs, with min and max.
            Roofline (unless --no-roofline): the machine is measured after the timed runs (read bandwidth with the \
            runtime's threads, OpenBLAS sgemm on a large square product, the engine's kernels' best rate, the kernels \
            also before the runs; each peak is the best seen, with a warning if the kernels' rate moved); decode is shown \
            against the bytes a step reads (weights, and each row's attention caches) over that bandwidth or its \
            FLOPs over the peak rate, whichever bound is tighter, the encoder against its linear layers' FLOPs at the peak \
            rate (the faster of sgemm and the engine's kernels), each with the fraction reached.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("prompt-len"), help: "Comma-separated prompt lengths in tokens.")
    var promptLengths: String = "64,256"

    @Option(name: .customLong("new-tokens"), help: "Tokens generated per row.")
    var newTokens: Int = 128

    @Option(name: .long, help: "Comma-separated batch sizes.")
    var batch: String = "1,8"

    /// Threads for OpenBLAS and the engine's kernels: `--threads`, else one per core (reported with the figures).
    var threads: Int { modelOptions.threads ?? T5Runtime.defaultThreadCount }

    /// The model folder, as given or the shipped default.
    var modelPath: String { (try? modelOptions.directory().path) ?? "?" }

    @Option(name: .long, help: "Untimed runs before the timed ones.")
    var warmup: Int = 1

    @Option(name: .long, help: "Timed runs; medians are reported.")
    var reps: Int = 3

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(inversion: .prefixedNo, help: "Measure the machine (about a second) and show each figure against its bound.")
    var roofline = true

    @Option(name: .long, help: "Linear-layer kernels: auto (the best this CPU runs), portable, avx2 or avx512.")
    var kernels: String = "auto"

    /// The instruction set `--kernels` names (`auto`: the best this CPU supports).
    var instructionSet: InstructionSet {
        kernels == "auto" ? .best : InstructionSet(rawValue: kernels) ?? .best
    }

    func validate() throws {
        guard newTokens >= 2 else { throw ValidationError("--new-tokens must be at least 2 (the first token is timed apart)") }
        guard warmup >= 0, reps >= 1 else { throw ValidationError("--warmup must be >= 0 and --reps >= 1") }
        _ = try parseList(promptLengths, "--prompt-len")
        _ = try parseList(batch, "--batch")
        guard kernels == "auto" || InstructionSet(rawValue: kernels) != nil else {
            throw ValidationError("--kernels must be auto, portable, avx2 or avx512, got '\(kernels)'")
        }
        guard instructionSet.isSupported else {
            throw ValidationError("--kernels \(kernels): this CPU does not support it (best: \(InstructionSet.best.rawValue))")
        }
    }

    func run() throws {
        T5Runtime.setBLASThreads(threads)
        let runtime = T5Runtime(threads: threads, instructionSet: instructionSet)
        let lengths = try parseList(promptLengths, "--prompt-len"), batches = try parseList(batch, "--batch")

        // The kernels' rate now as well as after the timed runs (MachinePeaks.measure): on a shared machine one
        // measurement alone can catch a moment when a core is taken away.
        let kernelRateBefore = roofline ? [MachinePeaks.kernelRate(runtime: runtime)] : []

        // Load (timed), then load-to-first-token on the first configuration with a fresh load.
        var loadTimes: [Double] = []
        var model: T5Model!
        for _ in 0..<max(1, reps) {
            model = nil  // the previous copy goes first, so peak RSS is that of one model
            let start = ContinuousClock.now
            model = try T5Model(directory: modelOptions.directory(), memoryLimitBytes: modelOptions.memoryLimitBytes, runtime: runtime,
                                adapters: modelOptions.adapters(), kvCache: modelOptions.kvCache,
                                int8Activations: modelOptions.int8Activations)
            loadTimes.append(milliseconds(ContinuousClock.now - start))
        }
        let model0 = model!
        var results: [[String: Any]] = []
        for length in lengths {
            for b in batches {
                let prompts = (0..<b).map {
                    benchPrompt(length: length, row: $0, eos: model0.config.eosTokenId, vocabSize: model0.config.vocabSize)
                }
                var encoder: [Double] = [], firstToken: [Double] = [], decode: [Double] = [], total: [Double] = []
                for rep in 0..<(warmup + reps) {
                    let r = try timeRun(model0, prompts)
                    guard rep >= warmup else { continue }
                    encoder.append(r.encoderMs)
                    firstToken.append(r.encoderMs + r.firstStepMs)
                    decode.append(Double(newTokens - 1) / (r.restMs / 1000))
                    total.append(Double(b * newTokens) / ((r.encoderMs + r.firstStepMs + r.restMs) / 1000))
                }
                results.append([
                    "prompt_len": length, "batch": b, "new_tokens": newTokens,
                    "encoder_ms": stats(encoder), "first_token_ms": stats(firstToken),
                    "decode_tok_s": stats(decode.map { $0 * Double(b) }), "total_tok_s": stats(total),
                ])
            }
        }
        let peakRSS = SystemInfo.peakRSSBytes
        // The machine is measured after the timed runs (same threads), so that its large read buffer stays out of the
        // peak RSS just taken.
        let peaks = roofline ? MachinePeaks.measure(runtime: runtime, earlierKernelRates: kernelRateBefore,
                                                    integerKernels: model0.integerKernels) : nil
        if let peaks {
            for i in results.indices {
                let r = results[i], b = r["batch"] as! Int, length = r["prompt_len"] as! Int
                results[i]["roofline"] = rooflineFigures(
                    model0, peaks, batch: b, promptLength: length,
                    encoderMs: median(r["encoder_ms"]), decodeTokS: median(r["decode_tok_s"]))
            }
        }
        var report: [String: Any] = [
            "model": modelPath, "cpu": SystemInfo.cpuModel, "openblas_core": SystemInfo.blasCoreName,
            "threads": threads, "build": buildDescription, "weights_dtype": dtypeDescription(model0),
            "int8_activations": model0.int8Activations,
            "integer_kernels": model0.integerKernels?.rawValue ?? NSNull(),
            "weight_bytes": model0.weightBytes, "peak_rss_bytes": peakRSS,
            "load_ms": stats(loadTimes), "warmup": warmup, "reps": reps, "results": results,
            "prompt_ids": "ids[i] = 3 + (i*7919 + b*104729 + 13) % min(32000, vocab_size - 3) for i < L-1, then eos",
        ]
        if let peaks { report["machine"] = machineFigures(peaks, model0) }
        if let warning = slowCodeWarning(runtime) {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        if let peaks, let warning = unsteadyMachineWarning(peaks) {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        if json {
            print(try jsonLine(report))
        } else {
            print(table(report, results, peaks))
        }
    }

    private struct RunTimes { let encoderMs, firstStepMs, restMs: Double }

    /// One greedy run: the session's init is the encoder (plus cross-attention keys/values), then `newTokens` steps.
    private func timeRun(_ model: T5Model, _ prompts: [[Int]]) throws -> RunTimes {
        let clock = ContinuousClock()
        let t0 = clock.now
        let session = try DecodingSession(model: model, prompts: prompts, maxSteps: newTokens)
        let t1 = clock.now
        var next = [Int](repeating: model.config.decoderStartTokenId, count: prompts.count)
        try session.step(next)
        pickGreedy(session, &next)
        let t2 = clock.now
        for _ in 1..<newTokens {
            try session.step(next)
            pickGreedy(session, &next)
        }
        let t3 = clock.now
        return RunTimes(encoderMs: milliseconds(t1 - t0), firstStepMs: milliseconds(t2 - t1), restMs: milliseconds(t3 - t2))
    }

    private func pickGreedy(_ session: DecodingSession, _ next: inout [Int]) {
        // Random-weight checkpoints never produce NaN; 0 keeps the loop going if one did.
        for b in 0..<session.batch { next[b] = session.withLogits(row: b, argmax) ?? 0 }
    }

    private var buildDescription: String {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return "\(configuration), kernels \(instructionSet.description)"
    }

    /// Why the figures are not what this machine can do, if they are not: a debug build, or the portable kernels on a
    /// CPU that runs vector ones.
    private func slowCodeWarning(_ runtime: T5Runtime) -> String? {
        #if DEBUG
        return "debug build: figures are far below a release build's (swift build -c release)"
        #else
        guard runtime.instructionSet == .portable, InstructionSet.best != .portable else { return nil }
        return "running the portable \(SystemInfo.simdTarget) kernels although this CPU runs \(InstructionSet.best.rawValue) (--kernels \(kernels))"
        #endif
    }

    private func dtypeDescription(_ model: T5Model) -> String {
        "weights held as \(model.linearWeightFormat)" + (model.integerKernels.map { ", \($0.rawValue)" } ?? "")
    }

    private func table(_ report: [String: Any], _ results: [[String: Any]], _ peaks: MachinePeaks?) -> String {
        func cell(_ s: Any?, _ digits: Int) -> String {
            guard let s = s as? [String: Double], let m = s["median"], let lo = s["min"], let hi = s["max"] else { return "-" }
            return String(format: "%.\(digits)f (%.\(digits)f–%.\(digits)f)", m, lo, hi)
        }
        var lines = [
            "model: \(modelPath) [\(report["weights_dtype"]!)], weights \(format(bytes: report["weight_bytes"] as! Int))",
            "cpu: \(report["cpu"]!), OpenBLAS core: \(report["openblas_core"]!), threads: \(threads), build: \(buildDescription)",
            "load: \(cell(report["load_ms"], 1)) ms; peak RSS \(format(bytes: report["peak_rss_bytes"] as! Int)); medians of \(reps) (min–max)",
        ]
        if let peaks, let machine = report["machine"] as? [String: Any] {
            lines += rooflineLines(peaks, machine, integerKernels: (report["integer_kernels"] as? String).flatMap(IntegerKernels.init))
        }
        lines += [
            "",
            "| prompt | batch | encoder ms | first token ms | decode tok/s (excl. 1st) | total tok/s |"
                + (peaks == nil ? "" : " encoder bound ms (reached) | decode bound tok/s (limit, reached) |"),
            "|---:|---:|---:|---:|---:|---:|" + (peaks == nil ? "" : "---:|---:|"),
        ]
        for r in results {
            var line = "| \(r["prompt_len"]!) | \(r["batch"]!) | \(cell(r["encoder_ms"], 2)) | \(cell(r["first_token_ms"], 2)) | \(cell(r["decode_tok_s"], 1)) | \(cell(r["total_tok_s"], 1)) |"
            if let f = r["roofline"] as? [String: Any], let e = f["encoder"] as? [String: Any], let d = f["decode"] as? [String: Any] {
                line += String(format: " %.2f (%.0f %%) | %.1f (%@, %.0f %%) |",
                               e["bound_ms"] as! Double, 100 * (e["fraction"] as! Double),
                               d["bound_tok_s"] as! Double, d["limit"] as! String, 100 * (d["fraction"] as! Double))
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

// MARK: Roofline

extension BenchCommand {
    /// Run-wide figures: the measured peaks, and what one decode step reads and computes.
    func machineFigures(_ peaks: MachinePeaks, _ model: T5Model) -> [String: Any] {
        [
            "read_bytes_per_s": peaks.readBytesPerSecond, "bandwidth_buffer_bytes": peaks.bandwidthBufferBytes,
            "last_level_cache_bytes": SystemInfo.lastLevelCacheBytes,
            "sgemm_flops_per_s": peaks.sgemmFlopsPerSecond, "sgemm_n": peaks.sgemmSize,
            "kernel_flops_per_s": peaks.kernelFlopsPerSecond, "peak_flops_per_s": peaks.peakFlopsPerSecond,
            "kernel_flops_per_s_seen": peaks.kernelRatesSeen,
            "int8_kernel_ops_per_s": peaks.int8OpsPerSecond ?? NSNull(),
            "decode_step_weight_bytes": model.decodeStepWeightBytes,
            "decode_step_flops_per_row": model.decodeStepFLOPsPerRow,
        ]
    }

    /// One configuration against its bounds: the encoder (as timed: stack plus cross-attention keys/values) against its
    /// linear layers at the peak rate (the faster of sgemm and the engine's kernels); decode against the bytes a step
    /// reads (weights, and the rows' self- and cross-attention caches) over the bandwidth, or its FLOPs over the peak.
    func rooflineFigures(_ model: T5Model, _ peaks: MachinePeaks, batch: Int, promptLength: Int, encoderMs: Double,
                         decodeTokS: Double) -> [String: Any] {
        let encoderFLOPs = Double(model.encoderLinearFLOPs(tokens: batch * promptLength))
        let integer = model.integerKernels
        let encoderRate = peaks.peakRate(integer: integer == .w8a8), decodeRate = peaks.peakRate(integer: integer != nil)
        let encoderBound = Roofline.encoder(flops: encoderFLOPs, peaks: peaks, integerKernels: integer)
        // The timed decode steps feed positions 1..<newTokens: their mean cache read per row.
        let cacheBytes = Double((1..<newTokens).reduce(0) { $0 + model.decodeStepCacheBytes(position: $1, promptLength: promptLength) })
            / Double(newTokens - 1) * Double(batch)
        let weightBytes = Double(model.decodeStepWeightBytes), stepFLOPs = Double(model.decodeStepFLOPsPerRow)
        let stepBytes = weightBytes + cacheBytes
        let step = Roofline.decodeStep(weightBytes: stepBytes, flopsPerRow: stepFLOPs, batch: batch, peaks: peaks,
                                       integerKernels: integer)
        let stepsPerSecond = decodeTokS / Double(batch)
        return [
            "encoder": [
                "linear_flops": encoderFLOPs, "bound_ms": encoderBound.seconds * 1000,
                "fraction": encoderBound.fraction(measuredSeconds: encoderMs / 1000),
                "rate_flops_per_s": encoderRate.rate, "rate": encoderRate.source,
            ] as [String: Any],
            "decode": [
                "bound_tok_s": Roofline.decodeTokensPerSecond(step, batch: batch), "limit": step.limit.rawValue,
                "fraction": step.fraction(measuredSeconds: 1 / stepsPerSecond),
                "step_weight_bytes": weightBytes, "step_cache_bytes": cacheBytes,
                "weight_bytes_per_s": stepsPerSecond * weightBytes,
                "bytes_per_s": stepsPerSecond * stepBytes,
                "bandwidth_fraction": stepsPerSecond * stepBytes / peaks.readBytesPerSecond,
                "flops_per_s": decodeTokS * stepFLOPs,
                "compute_fraction": decodeTokS * stepFLOPs / decodeRate.rate, "rate": decodeRate.source,
            ] as [String: Any],
        ]
    }

    /// A warning when the kernels' rate measured before and after the timed runs differs by more than a quarter.
    func unsteadyMachineWarning(_ peaks: MachinePeaks) -> String? {
        guard peaks.kernelRateSteadiness < 0.75 else { return nil }
        let rates = peaks.kernelRatesSeen.map { String(format: "%.1f", $0 / 1e9) }.joined(separator: " and ")
        return "the engine's kernels ran at \(rates) GFLOP/s at different moments of this run (other load on the "
            + "machine?); the roofline uses the fastest, so fractions of the compute bound may be off by that much"
    }

    func rooflineLines(_ peaks: MachinePeaks, _ machine: [String: Any], integerKernels: IntegerKernels?) -> [String] {
        let stepBytes = machine["decode_step_weight_bytes"] as! Int, cache = machine["last_level_cache_bytes"] as! Int
        let rate = peaks.peakRate(integer: integerKernels == .w8a8), decodeRate = peaks.peakRate(integer: integerKernels != nil)
        let int8Rate = peaks.int8OpsPerSecond.map { String(format: "; int8 kernels %.1f GOP/s", $0 / 1e9) } ?? ""
        func unit(_ r: (rate: Double, source: String)) -> String { r.source == "int8 kernels" ? "GOP/s" : "GFLOP/s" }
        var lines = [
            String(format: "roofline: read %.1f GB/s (%d threads, %@ buffer); sgemm %d³ %.1f GFLOP/s; engine kernels %.1f GFLOP/s",
                   peaks.readBytesPerSecond / 1e9, threads, format(bytes: peaks.bandwidthBufferBytes), peaks.sgemmSize,
                   peaks.sgemmFlopsPerSecond / 1e9, peaks.kernelFlopsPerSecond / 1e9) + int8Rate,
            String(format: "decode step: %@ of weights (plus each row's attention caches), %.1f MFLOP per row at %.1f %@ (%@); encoder bound: linear layers (and cross-attention k/v) at %.1f %@ (%@)",
                   format(bytes: stepBytes), Double(machine["decode_step_flops_per_row"] as! Int) / 1e6,
                   decodeRate.rate / 1e9, unit(decodeRate), decodeRate.source, rate.rate / 1e9, unit(rate), rate.source),
        ]
        if cache > 0 && stepBytes <= cache {
            lines.append("note: the step's weights fit in the last-level cache (\(format(bytes: cache))): decode can pass the DRAM bound")
        }
        return lines
    }
}

/// The documented bench prompt: see the header of this file.
func benchPrompt(length: Int, row: Int, eos: Int, vocabSize: Int) -> [Int] {
    let range = max(1, min(32_000, vocabSize - 3))
    return (0..<max(0, length - 1)).map { i in 3 + (i * 7919 + row * 104_729 + 13) % range } + [eos]
}

private func parseList(_ text: String, _ name: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw ValidationError("\(name) must be a comma-separated list of positive integers, got '\(text)'")
    }
    return values.map { $0! }
}

private func median(_ s: Any?) -> Double { (s as? [String: Double])?["median"] ?? 0 }

private func stats(_ values: [Double]) -> [String: Double] {
    let s = values.sorted()
    let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    return ["median": median, "min": s.first!, "max": s.last!]
}

private func format(bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
