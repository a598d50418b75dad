// Output and input helpers every subcommand shares: JSON lines out, JSON lines in, timing, unbuffered stdout.
import ArgumentParser
import Foundation

func milliseconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) * 1000 + Double(atto) / 1e15
}

/// One compact JSON object with sorted keys, for `--json` outputs.
func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// Writes to stdout without buffering delays (streamed tokens must appear as they come).
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// The bytes of the file an option names; `-` is standard input. Reads through the file descriptor, so pipes,
/// `/dev/stdin` and process substitutions work as well as regular files. Errors name the option and the reason.
func readInputFile(_ path: String, option: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw InputError(message: "\(option) \(path): cannot read it: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
        throw InputError(message: "\(option) \(path): is a directory, not a file")
    }
    do {
        return try FileHandle(fileDescriptor: fd, closeOnDealloc: false).readToEnd() ?? Data()
    } catch {
        throw InputError(message: "\(option) \(path): cannot read it: \(error.localizedDescription)")
    }
}

/// The UTF-8 text of the file an option names (`-` is standard input).
func readInputText(_ path: String, option: String) throws -> String {
    let data = try readInputFile(path, option: option)
    guard let text = String(data: data, encoding: .utf8) else { throw InputError(message: "\(option) \(path): not UTF-8 text") }
    return text
}

/// Whether a prompt has nothing to say: empty, or only whitespace and newlines.
func isBlankPrompt(_ text: String) -> Bool {
    text.allSatisfy { $0.isWhitespace || $0 == "\u{FEFF}" }
}

/// Refuses a blank prompt; `what` names it ("the prompt argument", "--batch-file in.jsonl:3: the prompt").
func requirePrompt(_ text: String, what: String) throws {
    guard isBlankPrompt(text) else { return }
    throw InputError(message: "\(what) is empty (or only whitespace): there is nothing to generate from")
}

/// Refuses two options that would both read standard input: the first would leave nothing for the second.
/// `readers` pairs each option with whether it reads standard input.
func requireOneStandardInputReader(_ readers: [(option: String, readsStdin: Bool)]) throws {
    let names = readers.filter(\.readsStdin).map(\.option)
    guard names.count > 1 else { return }
    throw ValidationError("\(names.joined(separator: " and ")) would \(names.count == 2 ? "both" : "all") read standard input; only one of them can be '-'")
}

/// The JSON objects of a JSON-lines file (`-` is standard input), with their 1-based line numbers; blank lines are
/// skipped. `option` names the flag in errors ("--batch-file in.jsonl:3: …").
func readJSONLines(_ path: String, option: String) throws -> [(line: Int, object: [String: Any])] {
    let data = try readInputFile(path, option: option)
    var out: [(Int, [String: Any])] = []
    for (n, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw InputError(message: "\(option) \(path):\(n + 1): not a JSON object")
        }
        out.append((n + 1, object))
    }
    return out
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
