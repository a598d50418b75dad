// `t5 tokenize`: text → T5 token ids (HF T5TokenizerFast-identical), a JSON-lines mode for batches,
// and `--bench` for single-thread encode throughput.
import ArgumentParser
import Foundation
import T5Engine

struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Turn text into T5 token ids.",
        discussion: """
            Prints the ids of TEXT on one line, comma-separated without spaces, ending with </s> (1), \
            ready for `t5 generate --ids`. With the standard T5 vocabulary (any t5 / flan-t5 folder's):

              $ t5 tokenize --tokenizer flan-t5-small "translate English to German: The house is wonderful."
              13959,1566,12,2968,10,37,629,19,1627,5,1

            --jsonl reads JSON objects with a "text" field from stdin, one per line, and writes each \
            back with "ids" and "decoded" (the decode of those ids, special tokens skipped) in place \
            of any existing keys of those names; other fields are kept as written.

            --bench FILE encodes every line of FILE on one thread (after a warm-up pass) and prints \
            one JSON object with MB/s by wall clock and by thread CPU time.

            Without --tokenizer, the tokenizer of the model `t5 generate` would load is used: --model DIR, \
            else the demo model; its tokenizer.json, else its spiece.model, else the standard T5 / Flan-T5 \
            vocabulary (found beside t5, in PREFIX/share/swift-t5, in $T5_DATA_DIR or in a checkout).
            """
    )

    @Option(name: .long, help: "A tokenizer.json, a spiece.model, or a model directory holding either (tokenizer.json preferred).",
            completion: .file())
    var tokenizer: String?

    @Option(name: .long, help: "Use this model folder's tokenizer. Default: the model `t5 generate` uses (the demo model).",
            completion: .directory)
    var model: String?

    @Flag(name: .long, help: "Read JSON lines with a \"text\" field on stdin; write them back with \"ids\" and \"decoded\" added.")
    var jsonl = false

    @Option(name: .long, help: "Benchmark: encode each line of this UTF-8 file, single-threaded, and print JSON with MB/s.")
    var bench: String?

    @Option(name: .long, help: "Timed passes over the --bench file (after one warm-up pass).")
    var repeats = 5

    @Flag(name: .long, help: "Do not append </s> (id 1).")
    var noEos = false

    @Flag(name: .long, help: "Print the token strings (space-separated) instead of the ids.")
    var pieces = false

    @Argument(help: "The text to tokenize.")
    var text: String?

    func validate() throws {
        let modes = [text != nil, jsonl, bench != nil].filter { $0 }.count
        if modes != 1 { throw ValidationError("Give exactly one of TEXT, --jsonl or --bench FILE.") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1.") }
        if tokenizer != nil, model != nil { throw ValidationError("Give --tokenizer or --model, not both.") }
    }

    /// `--tokenizer`, else the tokenizer file of `--model` or of the default model (as `t5 generate` loads it), so that
    /// `t5 tokenize TEXT` feeds `t5 generate --ids` the ids its model expects.
    func tokenizerSource() throws -> URL {
        if let tokenizer { return URL(fileURLWithPath: tokenizer) }
        let directory = try model.map { URL(fileURLWithPath: $0) } ?? InstalledResources.demoModel()
        return try InstalledResources.tokenizerSource(forModel: directory)
    }

    func run() async throws {
        let loadStart = DispatchTime.now()
        let tok = try T5Tokenizer(contentsOf: tokenizerSource())
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart.uptimeNanoseconds) / 1e9
        if let text {
            let ids = tok.encode(text, addEOS: !noEos)
            if pieces {
                print(ids.map { tok.piece(for: $0) ?? "?" }.joined(separator: " "))
            } else {
                print(ids.map(String.init).joined(separator: ","))
            }
        } else if jsonl {
            try annotateJSONLines(tok)
        } else if let bench {
            try runBenchmark(tok, file: bench, loadSeconds: loadSeconds)
        }
    }

    private func annotateJSONLines(_ tok: T5Tokenizer) throws {
        struct Line: Decodable { var text: String }
        var number = 0
        while let line = readLine(strippingNewline: true) {
            number += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            guard let parsed = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else {
                throw InputError(message: "stdin line \(number): not a JSON object with a string \"text\" field")
            }
            let ids = tok.encode(parsed.text, addEOS: !noEos)
            let added = [
                ("ids", "[" + ids.map(String.init).joined(separator: ",") + "]"),
                ("decoded", jsonString(tok.decode(ids))),
            ]
            guard let out = replacingMembers(of: line, with: added) else {
                throw InputError(message: "stdin line \(number): malformed JSON object")
            }
            print(out)
        }
    }

    private func runBenchmark(_ tok: T5Tokenizer, file: String, loadSeconds: Double) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        // Wall time and this thread's CPU time: on a shared machine the CPU figure is the steadier one.
        func pass() -> (wall: Double, cpu: Double, tokens: Int) {
            var tokens = 0
            let cpuStart = threadCPUSeconds()
            let start = DispatchTime.now()
            for line in lines { tokens += tok.encode(line).count }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            return (wall, threadCPUSeconds() - cpuStart, tokens)
        }
        let warmUp = pass()
        let passes = (0..<repeats).map { _ in pass() }
        let (mean, sd) = meanAndDeviation(passes.map { Double(bytes) / $0.wall / 1e6 })
        let (cpuMean, cpuSD) = meanAndDeviation(passes.map { Double(bytes) / $0.cpu / 1e6 })
        let fields: [(String, String)] = [
            ("engine", jsonString("swift-t5")),
            ("mode", jsonString("encode per line, 1 thread")),
            ("lines", "\(lines.count)"),
            ("bytes", "\(bytes)"),
            ("tokens", "\(warmUp.tokens)"),
            ("repeats", "\(repeats)"),
            ("mb_per_s", String(format: "%.3f", mean)),
            ("mb_per_s_stddev", String(format: "%.3f", sd)),
            ("cpu_mb_per_s", String(format: "%.3f", cpuMean)),
            ("cpu_mb_per_s_stddev", String(format: "%.3f", cpuSD)),
            ("load_ms", String(format: "%.1f", loadSeconds * 1000)),
            ("cpu", jsonString(SystemInfo.cpuModel)),
        ]
        print("{" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}")
    }

    private func meanAndDeviation(_ xs: [Double]) -> (Double, Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, xs.count - 1))
        return (mean, variance.squareRoot())
    }

    private func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
