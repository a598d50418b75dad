// The command line's conventions, run through the built `t5`: blank prompts are errors, `-` is standard input for
// every file option, negative numbers get the range message, out-of-vocabulary ids name the vocabulary, sampling
// reports a replayable seed, and progress leaves no carriage returns in redirected stderr.
import Foundation
import Testing

@Suite struct CLIConventionsTests {
    static var demo: String { Demo.directory.path }
    static var fixture: String { Fixtures.modelDirectory("v11-gated").path }

    /// Exit status non-zero, nothing on stdout, one line on stderr containing every one of `messages`.
    func expectOneLineFailure(_ args: [String], stdin: String? = nil, _ messages: String...,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args, stdin: stdin)
        #expect(r.status != 0, "\(args)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "\(args): \(r.stdout)", sourceLocation: sourceLocation)
        for message in messages {
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)", sourceLocation: sourceLocation)
    }

    func json(_ line: some StringProtocol) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    // MARK: Blank prompts

    @Test func emptyOrWhitespacePromptsAreErrors() throws {
        let g = ["generate", "--model", Self.demo, "--max-new-tokens", "2"]
        try expectOneLineFailure(g + [""], "the prompt argument is empty")
        try expectOneLineFailure(g + [" \t "], "the prompt argument is empty")
        try expectOneLineFailure(g + ["--prompt", "\n"], "--prompt is empty")
        try expectOneLineFailure(g + ["--cot", "zero-shot", ""], "the prompt argument is empty")
        try expectOneLineFailure(g + ["--cot", "zero-shot", "--self-consistency", "3", "  "], "the prompt argument is empty")
        try expectOneLineFailure(g, stdin: "", "the prompt on standard input is empty")
        try expectOneLineFailure(g, stdin: "  \n\n", "the prompt on standard input is empty")
        try expectOneLineFailure(g + ["--prompt-file", "-"], stdin: " \n", "--prompt-file - (standard input) is empty")
        let batch = "{\"prompt\": \"Is 17 greater than 9?\"}\n{\"prompt\": \"   \"}\n"
        try expectOneLineFailure(g + ["--batch-file", "-"], stdin: batch, "--batch-file -:2: the prompt is empty")
        try expectOneLineFailure(g + ["--batch-file", "-", "--cot", "zero-shot"], stdin: batch, "--batch-file -:2: the prompt is empty")
        try expectOneLineFailure(["eval", "--model", Self.demo, "--data", "-"], stdin: "{\"prompt\": \"\", \"answer\": \"1\"}\n",
                                 "--data -:1: the prompt is empty")
    }

    // MARK: `-` is standard input

    @Test func batchFileDashReadsJSONLinesFromStandardInput() throws {
        let input = "{\"id\": 7, \"prompt\": \"Is 17 greater than 9?\"}\n\n{\"id\": 8, \"prompt\": \"Reverse the words: red green blue\"}\n"
        for file in ["-", "/dev/stdin"] {
            let r = try CLI.run(["generate", "--model", Self.demo, "--max-new-tokens", "3", "--batch-file", file], stdin: input)
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n")
            #expect(lines.count == 2, "\(file): \(r.stdout)")
            let objects = try lines.map { try json($0) }
            #expect(objects.map { $0["id"] as? Int } == [7, 8])
            #expect(objects.map { $0["prompt"] as? String } == ["Is 17 greater than 9?", "Reverse the words: red green blue"])
            #expect(objects.allSatisfy { $0["text"] is String })
        }
    }

    @Test func promptFileDataAndExemplarsReadStandardInputForDash() throws {
        let p = try CLI.run(["generate", "--model", Self.demo, "--max-new-tokens", "3", "--json", "--prompt-file", "-"],
                            stdin: "Is 17 greater than 9?\n")
        #expect(p.status == 0, "\(p.stderr)")
        #expect(try json(p.stdout)["prompt"] as? String == "Is 17 greater than 9?")

        let items = "{\"prompt\": \"Is 17 greater than 9?\", \"answer\": \"yes\"}\n{\"prompt\": \"Is 3 greater than 9?\", \"answer\": \"no\"}\n"
        let e = try CLI.run(["eval", "--model", Self.demo, "--max-new-tokens", "3", "--json", "--data", "-"], stdin: items)
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try json(e.stdout)["items"] as? Int == 2)

        let exemplar = #"{"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "reasoning": "3 + 4 = 7.", "answer": "7"}"#
        let x = try CLI.run(["generate", "--model", Self.demo, "--max-new-tokens", "4", "--json", "--cot", "few-shot",
                             "--exemplars", "-", "A box holds 12 pens. 5 are taken out. How many pens are left?"], stdin: exemplar + "\n")
        #expect(x.status == 0, "\(x.stderr)")
        let o = try json(x.stdout)
        #expect(o["exemplars_used"] as? Int == 1)
        #expect((o["prompt"] as? String)?.contains("3 + 4 = 7.") == true, "\(o)")

        // Two options cannot both read standard input.
        try expectOneLineFailure(["generate", "--model", Self.demo, "--batch-file", "-", "--cot", "few-shot", "--exemplars", "-"],
                                 stdin: "", "--batch-file - and --exemplars - would both read standard input")
    }

    @Test func missingExemplarsFileIsNamed() throws {
        let path = "/nonexistent/exemplars-\(UUID()).jsonl"
        try expectOneLineFailure(["generate", "--model", Self.demo, "--cot", "few-shot", "--exemplars", path, "How many?"],
                                 "--exemplars \(path): cannot read it: No such file or directory")
        try expectOneLineFailure(["eval", "--model", Self.demo, "--data", Demo.directory.appendingPathComponent("heldout.jsonl").path,
                                  "--cot", "few-shot", "--exemplars", path], "--exemplars \(path): cannot read it")
        try expectOneLineFailure(["generate", "--model", Self.demo, "--exemplars", path, "How many?"],
                                 "--exemplars \(path) is only used by few-shot prompting: add --cot few-shot")
    }

    // MARK: Numbers

    @Test func negativeValuesGetTheRangeMessage() throws {
        let ids = ["generate", "--model", Self.fixture, "--ids", "5,1"]
        let text = ["generate", "--model", Self.fixture, "hello"]
        let data = ["eval", "--model", Self.fixture, "--data", "/nonexistent.jsonl"]
        let cases: [([String], String)] = [
            (ids + ["--max-new-tokens", "-1"], "--max-new-tokens -1: must be >= 0"),
            (ids + ["--min-new-tokens", "-1"], "--min-new-tokens -1: must be between 0 and maxNewTokens"),
            (ids + ["--num-beams", "-2"], "--num-beams -2: must be between 1 and 256"),
            (ids + ["--num-return-sequences", "-1"], "--num-return-sequences -1: must be between 1 and 1024"),
            (ids + ["--top-k", "-3", "--sample"], "--top-k -3: must be >= 0"),
            (ids + ["--temperature", "-1", "--sample"], "--temperature -1.0: must be > 0"),
            (ids + ["--no-repeat-ngram-size", "-2"], "--no-repeat-ngram-size -2: must be >= 0"),
            (ids + ["--batch-size", "-1"], "--batch-size must be between 1 and 4096, got -1"),
            (text + ["--self-consistency", "-1"], "--self-consistency must be between 1 and 1024, got -1"),
            (text + ["--input-budget", "-5"], "--input-budget must be >= 1, got -5"),
            (data + ["--limit", "-1"], "--limit must be >= 1, got -1"),
            (data + ["--batch-size", "-4"], "--batch-size must be between 1 and 4096, got -4"),
        ]
        for (args, message) in cases {
            try expectOneLineFailure(args, message)
        }
    }

    @Test func idsOutsideTheDemoVocabularyNameItAndTheTokenizer() throws {
        // The default model is the shipped demo model.
        try expectOneLineFailure(["generate", "--ids", "13959,1566,12,1"],
                                 "--ids: token id 13959 is outside the vocabulary 0..<475",
                                 "shipped demo model has its own 475-piece vocabulary", "`t5 tokenize \"TEXT\"` prints its ids")
        try expectOneLineFailure(["generate", "--model", Self.demo, "--ids", "5,475"],
                                 "--ids: token id 475 is outside the vocabulary 0..<475",
                                 "`t5 tokenize --model \(Self.demo) \"TEXT\"`", "475-piece vocabulary")
        // Ids that `t5 tokenize` prints fit.
        let t = try CLI.run(["tokenize", "Is 17 greater than 9?"])
        #expect(t.status == 0, "\(t.stderr)")
        let r = try CLI.run(["generate", "--ids", t.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--max-new-tokens", "2"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    // MARK: Seeds

    @Test func samplingWithoutSeedReportsAReplayableSeed() throws {
        let base = ["generate", "--model", Self.demo, "--sample", "--max-new-tokens", "6", "Reverse the words: red green blue"]
        var seeds: [UInt64] = []
        for _ in 0..<2 {
            let r = try CLI.run(base + ["--json"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
            let o = try json(r.stdout)
            let seed = try #require((o["seed"] as? NSNumber)?.uint64Value, "\(o)")
            seeds.append(seed)
            let replay = try json(try CLI.run(base + ["--json", "--seed", "\(seed)"]).stdout)
            #expect((replay["seed"] as? NSNumber)?.uint64Value == seed)
            #expect(replay["text"] as? String == o["text"] as? String)
            #expect(replay["ids"] as? [Int] == o["ids"] as? [Int])
        }
        #expect(seeds[0] != seeds[1], "two runs drew the same seed \(seeds)")

        // Plain output reports it on stderr; --seed N gives the same text.
        let plain = try CLI.run(base)
        #expect(plain.status == 0, "\(plain.stderr)")
        let line = plain.stderr.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("seed: ") && plain.stderr.split(separator: "\n").count == 1, "\(plain.stderr)")
        let seed = try #require(UInt64(line.dropFirst("seed: ".count)), "\(plain.stderr)")
        let replay = try CLI.run(base + ["--seed", "\(seed)"])
        #expect(replay.stdout == plain.stdout)
        #expect(replay.stderr.isEmpty, "a given seed is not reported again: \(replay.stderr)")

        // A given seed is in the JSON too, and self-consistency (which samples) reports its seed.
        let given = try json(try CLI.run(base + ["--json", "--seed", "9"]).stdout)
        #expect(given["seed"] as? Int == 9)
        let sc = try CLI.run(["generate", "--model", Self.demo, "--cot", "zero-shot", "--self-consistency", "2",
                              "--max-new-tokens", "4", "--json", "Tom has 3 apples and buys 4 more. How many apples does he have?"])
        #expect(sc.status == 0, "\(sc.stderr)")
        #expect(try json(sc.stdout)["seed"] is NSNumber)
    }

    @Test func greedyRunsReportNoSeed() throws {
        let r = try CLI.run(["generate", "--model", Self.demo, "--max-new-tokens", "3", "--json", "Is 17 greater than 9?"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(try json(r.stdout)["seed"] == nil)
    }

    // MARK: Progress

    @Test func redirectedProgressIsOneSummaryLineWithoutCarriageReturns() throws {
        let e = try CLI.run(["eval", "--model", Self.demo, "--data", Demo.directory.appendingPathComponent("heldout.jsonl").path,
                             "--limit", "3", "--batch-size", "2", "--max-new-tokens", "3"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(!e.stderr.contains("\r"), "\(e.stderr.debugDescription)")
        #expect(e.stderr.hasPrefix("eval: 3 items in ") && e.stderr.split(separator: "\n").count == 1, "\(e.stderr)")

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("t5-conv-\(UUID())")
        defer { try? FileManager.default.removeItem(at: out) }
        let c = try CLI.run(["convert", "--model", Self.fixture, "--out", out.path, "--dtype", "f16"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(!c.stderr.contains("\r"), "\(c.stderr.debugDescription)")
        #expect(c.stderr.hasPrefix("convert: ") && c.stderr.contains("MB of weights converted to f16 in"), "\(c.stderr)")
        #expect(c.stderr.split(separator: "\n").count == 1, "\(c.stderr)")
    }

    /// On a terminal (util-linux `script` gives the command one) the bar is drawn in place.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs /usr/bin/script"))
    func terminalProgressIsABarRedrawnInPlace() throws {
        let command = [CLI.executable().path, "eval", "--model", Self.demo,
                       "--data", Demo.directory.appendingPathComponent("heldout.jsonl").path,
                       "--limit", "4", "--batch-size", "2", "--max-new-tokens", "2"]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let r = try runProcess(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("\reval ["), "\(r.stdout.debugDescription)")
        #expect(r.stdout.contains("/4 items"), "\(r.stdout.debugDescription)")
        #expect(r.stdout.contains("eval: 4 items in "), "\(r.stdout.debugDescription)")
    }
}
