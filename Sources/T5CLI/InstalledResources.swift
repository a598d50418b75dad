// Where `t5` finds the data it ships with: the demo model folder and the standard T5 vocabulary (`spiece.model`).
// Resolved here, in the command, because the library reads no environment: it is handed explicit paths.
//
// The order (README, "Install"):
//   (a) beside the executable: <bindir>/swift-t5/…, and for the vocabulary also the SwiftPM resource bundle
//       <bindir>/swift-t5_T5Tokenizers.resources/t5-tokenizer/spiece.model that `swift build` puts there;
//   (b) PREFIX/share/swift-t5/…, PREFIX being the parent of the executable's folder (symlinks resolved), which is
//       where Scripts/install.sh puts them;
//   (c) $T5_DATA_DIR/… (a folder laid out like PREFIX/share/swift-t5: `demo-t5/` and `spiece.model`);
//   (d) a source checkout: Models/demo-t5 and Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model from the
//       working directory, or from the executable's folder and up to 3 levels above it (.build/<config>/t5).
import Foundation
import T5Engine

enum InstalledResources {
    /// The environment variable naming a data folder (step (c)).
    static let dataDirectoryVariable = "T5_DATA_DIR"
    /// The data folder's name beside the executable and under PREFIX/share.
    static let dataFolderName = "swift-t5"
    static let demoModelName = "demo-t5"
    static let vocabularyName = "spiece.model"
    /// The SwiftPM resource bundle of the T5Tokenizers target, as `swift build` names it.
    static let resourceBundleVocabulary = "swift-t5_T5Tokenizers.resources/t5-tokenizer/spiece.model"
    static let checkoutModel = "Models/demo-t5"
    static let checkoutVocabulary = "Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model"

    /// The running executable with symlinks resolved. `/proc/self/exe` first: `argv[0]` is a bare `t5` when the
    /// shell found it through PATH.
    static var executable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        if let url = Bundle.main.executableURL { return url.resolvingSymlinksInPath() }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }

    /// Places to look, in order, for a file or folder that is `installedName` inside a data folder (a–c) and
    /// `checkoutPath` inside a source checkout (d); `bundled` are extra paths relative to the executable's folder (a).
    static func candidates(installedName: String, bundled: [String] = [], checkoutPath: String,
                           executable: URL = executable,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) -> [URL] {
        let binDirectory = executable.deletingLastPathComponent()
        let prefix = binDirectory.deletingLastPathComponent()
        var places = [binDirectory.appendingPathComponent(dataFolderName).appendingPathComponent(installedName)]
        places += bundled.map { binDirectory.appendingPathComponent($0) }
        places.append(prefix.appendingPathComponent("share").appendingPathComponent(dataFolderName)
            .appendingPathComponent(installedName))
        if let data = environment[dataDirectoryVariable], !data.isEmpty {
            places.append(URL(fileURLWithPath: data, relativeTo: workingDirectory).standardizedFileURL
                .appendingPathComponent(installedName))
        }
        places.append(workingDirectory.appendingPathComponent(checkoutPath))
        var dir = binDirectory
        for _ in 0..<4 {
            places.append(dir.appendingPathComponent(checkoutPath))
            dir = dir.deletingLastPathComponent()
        }
        var seen = Set<String>()
        return places.map(\.standardizedFileURL).filter { seen.insert($0.path).inserted }
    }

    static var demoModelCandidates: [URL] {
        candidates(installedName: demoModelName, checkoutPath: checkoutModel)
    }

    static var vocabularyCandidates: [URL] {
        candidates(installedName: vocabularyName, bundled: [resourceBundleVocabulary], checkoutPath: checkoutVocabulary)
    }

    /// The demo model folder (the first candidate holding a `config.json`), the default of `--model`.
    static func demoModel() throws -> URL {
        let places = demoModelCandidates
        if let found = places.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) {
            return found
        }
        throw InputError(message: "no --model given and the demo model was not found (tried \(list(places))); "
            + "pass --model DIR, or set \(dataDirectoryVariable) to a folder holding \(demoModelName)/")
    }

    /// The standard T5 vocabulary, for model folders without tokenizer files.
    static func standardVocabulary() throws -> URL {
        let places = vocabularyCandidates
        if let found = places.first(where: { isFile($0) }) { return found }
        throw InputError(message: "the standard T5 vocabulary (\(vocabularyName)) was not found (tried \(list(places))); "
            + "set \(dataDirectoryVariable) to a folder holding \(vocabularyName), or give the model folder a "
            + "tokenizer.json or spiece.model")
    }

    /// The file a model folder's tokenizer is read from: its own `tokenizer.json` / `spiece.model`, else the
    /// standard vocabulary (what `ModelFolder` loads when handed `standardVocabulary:`).
    static func tokenizerSource(forModel directory: URL) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(message: "\(directory.path): no such model folder")
        }
        return try ModelFolder.tokenizerFile(in: directory) ?? standardVocabulary()
    }

    private static func isFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    private static func list(_ places: [URL]) -> String {
        places.map(\.path).joined(separator: ", ")
    }
}
