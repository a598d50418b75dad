// Hostile prompts, requests and paths that the other suites do not already cover (issue 8): control characters
// and NUL through the whole text pipeline, a 1 MB prompt, an empty batch, and `--model` at things that are
// not model folders. Each gets a result or a typed error with a message that names the problem.
import Foundation
import Testing
@testable import T5Engine

/// google/flan-t5-small (real vocabulary), when the large fixtures are present: `<repo>/fixtures-large`,
/// `<repo>/../fixtures-large` or $T5_LARGE_FIXTURES. Tests that need it are skipped otherwise.
enum LargeFixtures {
    static let flanT5Small: URL? = {
        let repo = ReliabilityFuzzCorpusTests.repoRoot
        var roots = [repo.appendingPathComponent("fixtures-large"), repo.deletingLastPathComponent().appendingPathComponent("fixtures-large")]
        if let env = ProcessInfo.processInfo.environment["T5_LARGE_FIXTURES"] { roots.insert(URL(fileURLWithPath: env), at: 0) }
        return roots.map { $0.appendingPathComponent("flan-t5-small") }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.safetensors").path) }
    }()
    static var available: Bool { flanT5Small != nil }

    private static let cache = Result { () throws -> T5Generator in
        guard let dir = flanT5Small else { throw ConfigError.noSuchModelFolder(path: "fixtures-large/flan-t5-small") }
        return try T5Generator(directory: dir)
    }
    static func generator() throws -> T5Generator { try cache.get() }
}

@Suite struct ReliabilityHostileInputTests {
    /// NUL, C0/C1 controls, escape sequences, BOM, zero-width and bidi controls, a lone combining mark.
    static let controlPrompts = [
        "a\u{0}b", "\u{0}", "\u{0}\u{0}\u{0}translate English to German: hi", "\u{1}\u{2}\u{7F}\u{1B}[31mred\u{1B}[0m",
        "tab\tcr\rlf\nvt\u{B}ff\u{C}", "\u{85}\u{9F}", "\u{FEFF}\u{200B}\u{200D}zero width", "\u{202E}override\u{202C}",
        "\u{301}", "\u{FFFD}\u{FFFF}",
    ]

    // MARK: Prompts through the generator

    @Test(.enabled(if: LargeFixtures.available, "needs fixtures-large/flan-t5-small"))
    func controlCharactersThroughTheRealTokenizerAndModel() async throws {
        let g = try LargeFixtures.generator()
        var o = GenerationOptions(); o.maxNewTokens = 4
        for prompt in Self.controlPrompts {
            let r = try await g.generate(prompt: prompt, options: o)
            #expect(r.promptTokens >= 1, "\(prompt.debugDescription)")
            #expect(r.tokens.count <= 4)
            #expect(r.tokens.allSatisfy { $0 >= 0 && $0 < g.model.config.vocabSize })
        }
        // A batch mixing them gives each row a result too.
        let batch = try await g.generate(prompts: Self.controlPrompts, options: o)
        #expect(batch.count == Self.controlPrompts.count)
    }

    /// Always runs: the byte-level toy tokenizer passes NUL and controls to the fixture model as ids 3…34.
    @Test func controlCharactersThroughTheFixtureModel() async throws {
        let g = T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer())
        var o = GenerationOptions(); o.maxNewTokens = 3
        for prompt in Self.controlPrompts {
            let r = try await g.generate(prompt: prompt, options: o)
            #expect(r.promptTokens == prompt.utf8.count + 1)
        }
        // The real tokenizer maps each of them to ids inside its vocabulary, `</s>` last.
        let tokenizer = try T5Tokenizer.standard()
        for prompt in Self.controlPrompts {
            let ids = tokenizer.encode(prompt)
            #expect(ids.last == 1 && ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize }, "\(prompt.debugDescription)")
        }
    }

    @Test(.enabled(if: LargeFixtures.available, "needs fixtures-large/flan-t5-small"))
    func emptyAndWhitespaceOnlyPromptsGenerateFromEOSAlone() async throws {
        let g = try LargeFixtures.generator()
        var o = GenerationOptions(); o.maxNewTokens = 4
        for prompt in ["", " ", "   \t\n  ", "\u{3000}"] {
            let r = try await g.generate(prompt: prompt, options: o)
            #expect(r.promptTokens == 1, "\(prompt.debugDescription)")   // just </s>: HF gives the same ids
        }
    }

    @Test func emptyBatchIsRefused() async throws {
        let g = T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer())
        await #expect(throws: RequestError.emptyBatch) { _ = try await g.generate(prompts: []) }
        #expect("\(RequestError.emptyBatch)" == "the batch holds no prompt")
    }

    /// Memory limit stated: a prompt is accepted iff the run state it needs (EncoderState.bytes + DecoderState.bytes,
    /// dominated by the encoder's length² attention scores) fits `memoryLimitBytes` (default 8 GiB). A 1 MB prompt is
    /// ~1M byte tokens here: length² alone is 4 TB, so it is refused, typed, before anything is allocated for it.
    @Test func oneMegabytePromptIsRefusedBeforeAllocating() async throws {
        let g = T5Generator(model: try Fixtures.model("v11-gated"), tokenizer: ByteTokenizer())
        let prompt = String(repeating: "All work and no play. ", count: 1 << 20 / 22 + 1)
        #expect(prompt.utf8.count >= 1 << 20)
        var o = GenerationOptions(); o.maxNewTokens = 4
        await #expect {
            _ = try await g.generate(prompt: prompt, options: o)
        } throws: { error in
            guard case RequestError.tooLarge(let bytes, let limit, _) = error else { return false }
            return limit == 8 << 30 && bytes > limit && "\(error)".contains("over the limit of 8192 MiB")
        }
    }

    /// The refusal allocates nothing big. Measured on a `t5` process of its own: this process's peak RSS also counts
    /// whatever the tests running beside this one allocate, which made an in-process check fail at random.
    /// (Needs python3, which this machine kind has, to read the child's rusage.)
    @Test func oneMegabytePromptCostsTheCommandLittleMemory() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("t5-1mb-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try String(repeating: "All work and no play. ", count: 1 << 20 / 22 + 1).write(to: file, atomically: true, encoding: .utf8)
        let r = try runMeasuringPeakMemory(CLI.executable(), ["generate", "--model", InstallAndVersionTests.demoModel.path,
                                                              "--prompt-file", file.path, "--max-new-tokens", "4"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("over the limit of 8192 MiB"), "\(r.stderr)")
        // About 50 MB here (model, a 1 MB prompt and its 0.7 M ids); the request asked for 1.7 TB.
        #expect(r.peakBytes < 256 << 20, "peak RSS \(r.peakBytes >> 20) MiB")
    }

    @Test(.enabled(if: LargeFixtures.available, "needs fixtures-large/flan-t5-small"))
    func oneMegabytePromptWithTheRealTokenizer() async throws {
        let g = try LargeFixtures.generator()
        let prompt = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 1 << 20 / 45 + 1)
        var o = GenerationOptions(); o.maxNewTokens = 4
        await #expect {
            _ = try await g.generate(prompt: prompt, options: o)
        } throws: { error in
            guard case RequestError.tooLarge(let bytes, let limit, let what) = error else { return false }
            return bytes > limit && what.contains("tokens")
        }
    }

    // MARK: The command line

    static var fixtureModel: String { Fixtures.modelDirectory("v11-gated").path }

    /// Exit status non-zero, nothing on stdout, one line on stderr containing `message`.
    func expectOneLineFailure(_ args: [String], _ message: String, stdin: String? = nil,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args, stdin: stdin)
        #expect(r.status != 0, "\(args)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "\(args): \(r.stdout)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(message), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func modelPathThatIsAFile() throws {
        let file = Fixtures.modelDirectory("v11-gated").appendingPathComponent("config.json").path
        try expectOneLineFailure(["generate", "--model", file, "--ids", "5,1"], "is a file")
        try expectOneLineFailure(["generate", "--model", file, "hello"], "is a file")
    }

    @Test func modelPathThatDoesNotExistWithTextPrompt() throws {
        try expectOneLineFailure(["generate", "--model", "/nonexistent/t5-\(UUID())", "hello"], "no such model folder")
    }

    /// Root bypasses permission bits, so as root the CLI runs as `nobody` through setpriv; the test is skipped
    /// only when neither is possible.
    @Test func modelDirectoryWithoutPermission() throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("t5-noperm-\(UUID())")
        try FileManager.default.copyItem(at: Fixtures.modelDirectory("v11-gated"), to: dir)
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
            try? FileManager.default.removeItem(at: dir)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: dir.path)
        var args = ["generate", "--model", dir.path, "--ids", "5,1"]
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
            args = ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.executable().path] + args
            let r = try runProcess(URL(fileURLWithPath: "/usr/bin/setpriv"), args)
            #expect(r.status != 0)
            #expect(r.stdout.isEmpty)
            // Not "no such config file": the folder exists, it just cannot be searched.
            #expect(r.stderr.contains("config.json: cannot read config: Permission denied"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        } else {
            try expectOneLineFailure(args, "config.json: cannot read config: Permission denied")
            #expect(throws: ConfigError.self) { _ = try T5Model(directory: dir) }
        }
    }

    @Test func emptyBatchFileIsAnEmptyResult() throws {
        // An empty JSONL batch is not an error: zero lines in, zero lines out, exit 0.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("t5-empty-\(UUID()).jsonl")
        try Data("\n  \n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let flan = LargeFixtures.flanT5Small else { return }
        let r = try CLI.run(["generate", "--model", flan.path, "--batch-file", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func hostileDecodingOptionsOnTheCommandLine() throws {
        let m = Self.fixtureModel
        let cases: [([String], String)] = [
            (["--max-new-tokens", "1000000000"], "--max-new-tokens 1000000000: must be <= 1048576"),
            (["--sample", "--temperature=-1"], "--temperature -1.0: must be > 0"),
            (["--sample", "--temperature", "0"], "--temperature 0.0: must be > 0"),
            (["--sample", "--top-p", "0"], "--top-p 0.0: must be in (0, 1]"),
            (["--sample", "--top-p", "1.5"], "--top-p 1.5: must be in (0, 1]"),
            (["--num-beams", "0"], "--num-beams 0: must be between 1 and 256"),
            (["--sample", "--temperature", "nan"], "--temperature nan: must be > 0"),
            (["--repetition-penalty", "inf"], "--repetition-penalty inf: must be > 0"),
        ]
        for (flags, name) in cases {
            try expectOneLineFailure(["generate", "--model", m, "--ids", "5,1"] + flags, name)
        }
    }

    @Test(.enabled(if: LargeFixtures.available, "needs fixtures-large/flan-t5-small"))
    func nulBytesInAPromptFileAndOnStandardInput() throws {
        let flan = LargeFixtures.flanT5Small!.path
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("t5-nul-\(UUID()).txt")
        try Data("translate English to German: a\u{0}b\u{1B}[2J".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try CLI.run(["generate", "--model", flan, "--prompt-file", file.path, "--max-new-tokens", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try CLI.run(["generate", "--model", flan, "--max-new-tokens", "3"], stdin: "\u{0}\u{0}\u{7}")
        #expect(s.status == 0, "\(s.stderr)")
        // Invalid UTF-8 is refused with a message, not repaired silently.
        try Data([0x61, 0xFF, 0xFE, 0x00]).write(to: file)
        try expectOneLineFailure(["generate", "--model", flan, "--prompt-file", file.path], "not UTF-8")
    }
}

/// Runs `executable` (stdout discarded) and reports its exit status, its standard error and its own peak resident
/// set size. A small Python process starts it and reads its rusage: a child spawned straight from this (large) test
/// process would inherit this process's RSS high-water mark at exec (Linux keeps the larger of the two in ru_maxrss).
func runMeasuringPeakMemory(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stderr: String, peakBytes: Int) {
    let script = """
        import resource, subprocess, sys
        r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sys.stderr.buffer.write(r.stderr)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        sys.exit(r.returncode)
        """
    let r = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, executable.path] + arguments)
    let kib = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? Int.max / 1024
    return (r.status, r.stderr, kib * 1024)
}

/// Peak resident set size of this process so far (ru_maxrss is in KiB on Linux).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}

