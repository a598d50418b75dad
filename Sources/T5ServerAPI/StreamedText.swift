// One output sequence's text as its tokens arrive: each piece is the new suffix of the decoded text (so the pieces
// join to the final text), a stop string ends the text before it, and text that could be the start of a stop
// string is held back until it is known not to be.

public struct StreamedText: Sendable {
    public let stops: [String]
    /// Text already handed out.
    public private(set) var emitted = ""
    /// Set once a stop string appeared: the final text ends before it.
    public private(set) var stopped = false

    public init(stops: [String]) { self.stops = stops }

    /// `text` is the whole decoded text so far; returns the piece to send now (possibly empty).
    public mutating func update(_ text: String) -> String {
        guard !stopped else { return "" }
        var visible = text
        if let cut = Self.firstStop(in: text, stops: stops) {
            visible = String(text[..<cut])
            stopped = true
        } else {
            visible = String(text.dropLast(Self.heldBack(text, stops: stops)))
        }
        // Detokenizing may rewrite the end of the text (a piece joining the next); only a growing prefix is sent.
        guard visible.hasPrefix(emitted), visible.count > emitted.count else { return "" }
        let piece = String(visible.dropFirst(emitted.count))
        emitted = visible
        return piece
    }

    /// The final text: all of it (or up to a stop string); returns what was not yet sent.
    public mutating func finish(_ text: String) -> String {
        guard !stopped else { return "" }
        let final = Self.firstStop(in: text, stops: stops).map { String(text[..<$0]) } ?? text
        stopped = true
        guard final.hasPrefix(emitted) else { return "" }
        let piece = String(final.dropFirst(emitted.count))
        emitted = final
        return piece
    }

    /// The text of a finished sequence, cut before its first stop string.
    public static func final(_ text: String, stops: [String]) -> String {
        firstStop(in: text, stops: stops).map { String(text[..<$0]) } ?? text
    }

    static func firstStop(in text: String, stops: [String]) -> String.Index? {
        stops.compactMap { text.range(of: $0)?.lowerBound }.min()
    }

    /// Characters at the end of `text` that begin some stop string.
    static func heldBack(_ text: String, stops: [String]) -> Int {
        var most = 0
        for stop in stops {
            for k in stride(from: min(stop.count - 1, text.count), to: most, by: -1) where text.hasSuffix(stop.prefix(k)) {
                most = k
                break
            }
        }
        return most
    }
}
