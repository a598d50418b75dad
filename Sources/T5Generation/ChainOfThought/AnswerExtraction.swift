// Pulls the final answer out of generated reasoning, and votes over several reasoning paths.
import Foundation

public enum AnswerExtraction {
    /// The last "the answer is" (case-insensitive), widened to take in a "So " just before it.
    static func lastMarker(in text: String) -> Range<String.Index>? {
        guard let r = text.range(of: "the answer is", options: [.backwards, .caseInsensitive]) else { return nil }
        let before = text[..<r.lowerBound]
        if before.lowercased().hasSuffix("so "), let so = text.index(r.lowerBound, offsetBy: -3, limitedBy: text.startIndex) {
            return so..<r.upperBound
        }
        return r
    }

    /// The text after the last "So the answer is" / "The answer is" (case-insensitive), up to the end of its
    /// line, without a trailing period; otherwise the last number in the text; otherwise the trimmed text.
    public static func answer(from text: String) -> String {
        if let marker = lastMarker(in: text) {
            var answer = text[marker.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
            if let newline = answer.firstIndex(of: "\n") { answer = String(answer[..<newline]) }
            while answer.hasSuffix(".") { answer.removeLast() }
            answer = answer.trimmingCharacters(in: .whitespaces)
            if !answer.isEmpty { return answer }
        }
        if let number = lastNumber(in: text) { return number }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The reasoning before the answer sentence (everything when there is none).
    public static func reasoning(from text: String) -> String {
        let end = lastMarker(in: text)?.lowerBound ?? text.endIndex
        return text[..<end].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The last integer or decimal in the text ("-3", "1,200" → "1200", "2.5").
    public static func lastNumber(in text: String) -> String? {
        var last: String?
        var current = ""
        func flush() {
            var n = current
            while n.hasSuffix(".") || n.hasSuffix(",") { n.removeLast() }
            n.removeAll { $0 == "," }
            if n.contains(where: \.isNumber) { last = n }
            current = ""
        }
        for ch in text {
            if ch.isASCII && ch.isNumber {
                current.append(ch)
            } else if (ch == "." || ch == ","), !current.isEmpty {
                current.append(ch)
            } else if ch == "-", current.isEmpty {
                current.append(ch)
            } else {
                flush()
            }
        }
        flush()
        return last
    }

    /// Majority vote (Wang et al. 2022): the most frequent answer; ties go to the one reached first.
    public static func majority(_ answers: [String]) -> (answer: String, votes: Int)? {
        var counts: [String: Int] = [:]
        var firstSeen: [String: Int] = [:]
        for (i, a) in answers.enumerated() {
            counts[a, default: 0] += 1
            if firstSeen[a] == nil { firstSeen[a] = i }
        }
        return counts.max { a, b in a.value < b.value || (a.value == b.value && firstSeen[a.key]! > firstSeen[b.key]!) }
            .map { ($0.key, $0.value) }
    }
}
