// Progress on stderr for long subcommands (`eval`, `convert`): a bar redrawn in place when stderr is a terminal,
// otherwise one plain summary line at the end, so logs and redirected output never collect carriage returns.
import Foundation

final class ProgressBar {
    /// What the bar counts: `done` of `total`, formatted for the count column ("12/600 items", "3.1/22.4 MB").
    typealias Format = (_ done: Int, _ total: Int) -> String

    let label: String
    /// What `done` counts up to; may be set once it is known (e.g. from the first progress report).
    var total: Int
    let format: Format
    /// Draw the bar: stderr is a terminal. Otherwise only `finish` writes, once.
    let live: Bool
    private let start = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var lastDone = -1
    private var drawn = false
    private static let width = 30

    init(label: String, total: Int, live: Bool = isatty(STDERR_FILENO) == 1,
         format: @escaping Format = { done, total in "\(done)/\(total)" }) {
        self.label = label
        self.total = max(total, 0)
        self.format = format
        self.live = live
    }

    /// Seconds since the bar was made.
    var elapsedSeconds: Double { milliseconds(ContinuousClock.now - start) / 1000 }

    /// Records progress; on a terminal redraws the line (at most ten times a second, and always at the end).
    func update(_ done: Int) {
        guard live, done != lastDone else { return }
        let now = ContinuousClock.now
        if let lastDraw, done < total, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        lastDone = done
        write("\r" + Self.line(label: label, done: done, total: total, elapsed: elapsedSeconds, format: format) + "\u{1B}[K")
        drawn = true
    }

    /// Ends the progress with `summary`: on a terminal it replaces the bar; elsewhere it is the only line written.
    func finish(_ summary: String) {
        write((live && drawn ? "\r\u{1B}[K" : "") + summary + "\n")
    }

    /// Clears a drawn bar so an error message starts on a clean line.
    func abandon() {
        if live && drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    /// `label [#########.....................] count  ETA 1m05s`.
    static func line(label: String, done: Int, total: Int, elapsed: Double, format: Format) -> String {
        let fraction = total > 0 ? min(max(Double(done) / Double(total), 0), 1) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var text = "\(label) [\(bar)] \(format(done, total))"
        if done >= total {
            text += "  \(duration(elapsed))"
        } else if done > 0 {
            text += "  ETA \(duration(elapsed / Double(done) * Double(total - done)))"
        }
        return text
    }

    /// 42s, 3m05s, 1h02m.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
