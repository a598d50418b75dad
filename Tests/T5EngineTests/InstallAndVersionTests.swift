// The installed command's contract: `t5 --version`, the subcommand suggestion, `--threads` messages, `t5 tokenize`
// defaulting to the default model's tokenizer, and the data lookup rule (beside the binary, PREFIX/share/swift-t5,
// T5_DATA_DIR, a checkout) exercised with a copy of the executable outside the repository.
import Foundation
import Testing
import T5Engine

@Suite struct InstallAndVersionTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let demoModel = repository.appendingPathComponent("Models/demo-t5")
    static let standardVocabulary = repository.appendingPathComponent("Sources/T5Tokenizers/Resources/t5-tokenizer/spiece.model")

    static func ids(_ line: String) -> [Int] {
        line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
    }

    // MARK: --version

    @Test func versionPrintsOneLinePerSetting() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 6 && lines.last == "", "\(lines)")
        let keys = ["t5 version", "build configuration", "SIMD target", "OpenBLAS core", "Swift runtime"]
        for (line, key) in zip(lines, keys) {
            #expect(line.hasPrefix(key + ": ") && line.count > key.count + 2, "\(line)")
        }
        let version = lines[0].dropFirst("t5 version: ".count).split(separator: ".")
        #expect(version.count == 3 && version.allSatisfy { Int($0) != nil }, "\(lines[0])")
        #expect(["build configuration: debug", "build configuration: release"].contains(lines[1]))
        // The test binary is a plain `swift build`: no -target-cpu define, the runtime linked dynamically.
        #expect(lines[2] == "SIMD target: baseline x86-64 (SSE2)" || lines[2].contains("T5_TARGET_CPU") || lines[2].contains("arm64"))
        #expect(lines[4].hasPrefix("Swift runtime: dynamic (/") || lines[4] == "Swift runtime: static", "\(lines[4])")
        #expect(!lines[3].hasSuffix(": unknown"))
    }

    // MARK: subcommand suggestions

    @Test func aMistypedSubcommandGetsTheClosestOne() throws {
        let r = try CLI.run(["generat", "hi"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr == "t5: error: unknown subcommand 'generat'; did you mean 'generate'?\n")
        let swapped = try CLI.run(["tokneize", "x"])
        #expect(swapped.stderr == "t5: error: unknown subcommand 'tokneize'; did you mean 'tokenize'?\n")
    }

    @Test func aMistypedFlagGetsTheClosestOne() throws {
        let r = try CLI.run(["generate", "--max-new-token", "3", "hi"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr == "t5: error: Unknown option '--max-new-token'. Did you mean '--max-new-tokens'?\n")
    }

    @Test func aFarOffWordGetsNoSuggestionButTheList() throws {
        let r = try CLI.run(["xyzzy"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("t5: error: unknown subcommand 'xyzzy'; the subcommands are generate, tokenize"), "\(r.stderr)")
        #expect(!r.stderr.contains("did you mean") && r.stderr.split(separator: "\n").count == 1)
        // Real subcommands and `help` are not caught.
        #expect(try CLI.run(["help", "generate"]).status == 0)
    }

    // MARK: --threads

    @Test(arguments: ["-1", "0", "2000"])
    func threadsOutOfRangeSaysTheRange(_ value: String) throws {
        let r = try CLI.run(["generate", "--threads", value, "hi"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr == "t5: error: --threads must be between 1 and 1024, got \(value)\n")
    }

    @Test func threadsNotANumberSaysWhatIsExpected() throws {
        let r = try CLI.run(["generate", "--threads", "abc", "hi"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("t5: error: ") && r.stderr.contains("'abc'") && r.stderr.contains("--threads"), "\(r.stderr)")
        #expect(r.stderr.contains("between 1 and 1024") && !r.stderr.contains("Missing value"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    // MARK: t5 tokenize's default

    @Test func tokenizeDefaultsToTheDemoModelsTokenizer() throws {
        let text = "Is 17 greater than 9?"
        let expected = try T5Tokenizer(contentsOf: Self.demoModel).encode(text)
        let standard = try T5Tokenizer(contentsOf: Self.standardVocabulary).encode(text)
        #expect(expected != standard)   // otherwise this test could not tell the two apart
        let r = try CLI.run(["tokenize", text])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.ids(r.stdout) == expected, "\(r.stdout)")
        let explicit = try CLI.run(["tokenize", "--model", Self.demoModel.path, text])
        #expect(Self.ids(explicit.stdout) == expected)
        let file = try CLI.run(["tokenize", "--tokenizer", Self.standardVocabulary.path, text])
        #expect(Self.ids(file.stdout) == standard)
        let both = try CLI.run(["tokenize", "--tokenizer", Self.standardVocabulary.path, "--model", Self.demoModel.path, text])
        #expect(both.status != 0 && both.stderr.split(separator: "\n").count == 1)
    }

    /// `t5 generate --ids "$(t5 tokenize TEXT)"` is `t5 generate TEXT`.
    @Test func tokenizeFeedsGenerateIds() throws {
        let text = "Is 17 greater than 9?"
        let tokenized = try CLI.run(["tokenize", text])
        let fromIds = try CLI.run(["generate", "--json", "--ids", tokenized.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        let fromText = try CLI.run(["generate", "--json", text])
        #expect(fromIds.status == 0 && fromText.status == 0, "\(fromIds.stderr) \(fromText.stderr)")
        func field(_ json: String, _ key: String) -> [Int]? {
            let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            return object?[key] as? [Int]
        }
        #expect(field(fromIds.stdout, "prompt_ids") == Self.ids(tokenized.stdout), "\(fromIds.stdout)")
        #expect(field(fromIds.stdout, "ids") != nil && field(fromIds.stdout, "ids") == field(fromText.stdout, "ids"),
                "\(fromIds.stdout) vs \(fromText.stdout)")
    }

    // MARK: ModelFolder's explicit vocabulary

    @Test func modelFolderUsesTheGivenStandardVocabulary() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("no-tokenizer")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name),
                                                       withDestinationURL: Self.demoModel.appendingPathComponent(name))
        }
        // The demo model's tokenizer.json stands in for a standard vocabulary that fits its 475 ids.
        let demoVocabulary = Self.demoModel.appendingPathComponent("tokenizer.json")
        let loaded = try ModelFolder(directory: folder, standardVocabulary: demoVocabulary)
        #expect(loaded.tokenizerFile == nil)
        #expect(loaded.tokenizer?.encode("Hello world") == (try T5Tokenizer(contentsOf: demoVocabulary)).encode("Hello world"))
        // Without it the bundled 32k vocabulary is used, which this 475-id model cannot take.
        #expect(throws: (any Error).self) { try ModelFolder(directory: folder) }
    }

    // MARK: the lookup rule, with the binary copied out of the repository

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.resolvingSymlinksInPath()
    }

    /// `PREFIX/bin/t5`, a copy of the built executable, in a fresh temporary PREFIX outside the repository.
    static func copiedBinary() throws -> (prefix: URL, binary: URL) {
        let prefix = try temporaryDirectory()
        let bin = prefix.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let binary = bin.appendingPathComponent("t5")
        try FileManager.default.copyItem(at: CLI.executable(), to: binary)
        return (prefix, binary)
    }

    /// A data folder laid out like PREFIX/share/swift-t5: a copy of the demo model (without its evaluation files) and,
    /// if asked, the standard vocabulary.
    static func makeDataFolder(at dir: URL, vocabulary: Bool = false) throws {
        let model = dir.appendingPathComponent("demo-t5")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "generation_config.json", "exemplars.jsonl", "spiece.model",
                     "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: demoModel.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        if vocabulary {
            try FileManager.default.copyItem(at: standardVocabulary, to: dir.appendingPathComponent("spiece.model"))
        }
    }

    /// Runs `binary` with `directory` as the working directory and T5_DATA_DIR set to `dataDirectory` (or unset).
    static func run(_ binary: URL, _ arguments: [String], in directory: URL, dataDirectory: URL?) throws -> CLIResult {
        var environment = ProcessInfo.processInfo.environment
        environment["T5_DATA_DIR"] = dataDirectory?.path
        return try runProcess(binary, arguments, in: directory, environment: environment)
    }

    @Test func aCopiedBinaryFindsTheDemoModelThroughT5DataDir() throws {
        let (prefix, binary) = try Self.copiedBinary()
        defer { try? FileManager.default.removeItem(at: prefix) }
        let data = prefix.appendingPathComponent("elsewhere-data")
        try Self.makeDataFolder(at: data)
        let text = "Is 17 greater than 9?"

        let without = try Self.run(binary, ["tokenize", text], in: prefix, dataDirectory: nil)
        #expect(without.status != 0 && without.stdout.isEmpty)
        #expect(without.stderr.contains("demo model was not found") && without.stderr.contains("T5_DATA_DIR")
                && without.stderr.contains(prefix.appendingPathComponent("share/swift-t5/demo-t5").path), "\(without.stderr)")
        #expect(without.stderr.split(separator: "\n").count == 1)

        let tokenized = try Self.run(binary, ["tokenize", text], in: prefix, dataDirectory: data)
        #expect(tokenized.status == 0, "\(tokenized.stderr)")
        #expect(Self.ids(tokenized.stdout) == (try T5Tokenizer(contentsOf: Self.demoModel)).encode(text))

        let generated = try Self.run(binary, ["generate", text], in: prefix, dataDirectory: data)
        let reference = try CLI.run(["generate", text])
        #expect(generated.status == 0 && reference.status == 0, "\(generated.stderr)")
        #expect(generated.stdout == reference.stdout && !generated.stdout.isEmpty)
    }

    @Test func installedLayoutsComeBeforeT5DataDir() throws {
        let (prefix, binary) = try Self.copiedBinary()
        defer { try? FileManager.default.removeItem(at: prefix) }
        // (b) PREFIX/share/swift-t5, found with no variable set; a broken T5_DATA_DIR model does not shadow it.
        try Self.makeDataFolder(at: prefix.appendingPathComponent("share/swift-t5"))
        let broken = prefix.appendingPathComponent("broken/demo-t5")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        try Data("{".utf8).write(to: broken.appendingPathComponent("config.json"))
        let text = "Is 17 greater than 9?"
        let reference = try CLI.run(["generate", text])
        let shared = try Self.run(binary, ["generate", text], in: prefix, dataDirectory: broken.deletingLastPathComponent())
        #expect(shared.status == 0 && shared.stdout == reference.stdout, "\(shared.stderr)")
        // (a) <bindir>/swift-t5 comes before (b): a broken model there is the one loaded.
        let besideBinary = prefix.appendingPathComponent("bin/swift-t5/demo-t5")
        try FileManager.default.createDirectory(at: besideBinary, withIntermediateDirectories: true)
        try Data("{".utf8).write(to: besideBinary.appendingPathComponent("config.json"))
        let shadowed = try Self.run(binary, ["generate", text], in: prefix, dataDirectory: nil)
        #expect(shadowed.status != 0 && shadowed.stderr.contains(besideBinary.path), "\(shadowed.stderr)")
    }

    @Test func theStandardVocabularyIsLookedUpTheSameWay() throws {
        let (prefix, binary) = try Self.copiedBinary()
        defer { try? FileManager.default.removeItem(at: prefix) }
        // A model folder without tokenizer files needs the standard vocabulary.
        let model = prefix.appendingPathComponent("bare-model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.demoModel.appendingPathComponent("config.json"),
                                         to: model.appendingPathComponent("config.json"))
        let missing = try Self.run(binary, ["tokenize", "--model", model.path, "Hello world"], in: prefix, dataDirectory: nil)
        #expect(missing.status != 0 && missing.stdout.isEmpty)
        #expect(missing.stderr.contains("standard T5 vocabulary (spiece.model) was not found (tried ")
                && missing.stderr.contains(prefix.appendingPathComponent("share/swift-t5/spiece.model").path)
                && missing.stderr.contains("T5_DATA_DIR"), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)

        let data = prefix.appendingPathComponent("data")
        try Self.makeDataFolder(at: data, vocabulary: true)
        let found = try Self.run(binary, ["tokenize", "--model", model.path, "Hello world"], in: prefix, dataDirectory: data)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout == "8774,296,1\n")
    }
}
