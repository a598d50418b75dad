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
            Prints the ids of TEXT on one line, comma-separated without spaces, ending with </s> (1):

              $ t5 tokenize "translate English to German: The house is wonderful."
              13959,1566,12,2968,10,37,629,19,1627,5,1

            --jsonl reads JSON objects with a "text" field from stdin, one per line, and writes each \
            back with "ids" and "decoded" (the decode of those ids, special tokens skipped) in place \
            of any existing keys of those names; other fields are kept as written.

            --bench FILE encodes every line of FILE on one thread (after a warm-up pass) and prints \
            one JSON object with MB/s by wall clock and by thread CPU time.

            Without --tokenizer the bundled standard T5 / Flan-T5 vocabulary is used.
            """
    )

    @Option(name: .long, help: "A tokenizer.json, a spiece.model, or a model directory holding either (tokenizer.json preferred).")
    var tokenizer: String?

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
    }

    func run() async throws {
        let loadStart = DispatchTime.now()
        let tok = try tokenizer.map { try T5Tokenizer(contentsOf: URL(fileURLWithPath: $0)) } ?? T5Tokenizer.standard()
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
            ("cpu", jsonString(cpuModel())),
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

    private func cpuModel() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}

/// Bad data on stdin: reported without the usage text that `ValidationError` brings.
struct InputError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A JSON string literal for `s`: quotes, backslashes and control characters escaped, the rest raw UTF-8.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// `object` (one JSON object as text) with the top-level members named in `members` removed and
/// then appended with the given raw JSON values; every other member is kept byte for byte.
func replacingMembers(of object: String, with members: [(String, String)]) -> String? {
    let b = Array(object.utf8)
    var i = 0
    func skipSpace() { while i < b.count, [0x20, 0x09, 0x0A, 0x0D].contains(b[i]) { i += 1 } }
    func skipString() -> Bool {
        i += 1
        while i < b.count {
            if b[i] == UInt8(ascii: "\\") { i += 2; continue }
            if b[i] == UInt8(ascii: "\"") { i += 1; return true }
            i += 1
        }
        return false
    }
    func skipValue() -> Bool {
        var depth = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""): if !skipString() { return false }; continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return true }
                depth -= 1
            case UInt8(ascii: ","): if depth == 0 { return true }
            default: break
            }
            i += 1
        }
        return false
    }
    skipSpace()
    guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
    i += 1
    var kept: [String] = []
    let replaced = Set(members.map { "\"\($0.0)\"" })
    while true {
        skipSpace()
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "}") { break }
        guard b[i] == UInt8(ascii: "\"") else { return nil }
        let start = i
        guard skipString() else { return nil }
        let key = String(decoding: b[start..<i], as: UTF8.self)
        guard skipValue() else { return nil }
        var end = i
        while end > start, [0x20, 0x09, 0x0A, 0x0D].contains(b[end - 1]) { end -= 1 }
        if !replaced.contains(key) { kept.append(String(decoding: b[start..<end], as: UTF8.self)) }
        if b[i] == UInt8(ascii: ",") { i += 1 }
    }
    kept += members.map { "\"\($0.0)\": \($0.1)" }
    return "{" + kept.joined(separator: ", ") + "}"
}
