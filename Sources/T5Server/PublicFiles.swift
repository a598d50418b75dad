// The web page's files (index.html, app.js, style.css), found on disk rather than in a resource bundle: beside the
// executable (public/), in PREFIX/share/swift-t5/public for an installed t5, else this source tree's Public folder.
import Foundation

enum PublicFiles {
    static func locate() -> URL? {
        let exe = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [
            exe.appendingPathComponent("public"),
            exe.deletingLastPathComponent().appendingPathComponent("share/swift-t5/public"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Public"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }

    static let files: [String: String] = [
        "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8",
    ]
}
