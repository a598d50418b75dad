// `--memory-budget`, `--kv-cache` and `--int8-activations` through the built `t5`: sizes with units, bad ones refused, a request over the budget
// refused in one line before it starts, a huge --max-new-tokens accepted when its bound fits, narrow caches answering.
import Foundation
import Testing

@Suite struct MemoryOptionsCommandTests {
    @Test func budgetAndCacheFlags() throws {
        let demo = Demo.directory.path
        let prompt = "Is 17 greater than 9?"
        let refused = try CLI.run(["generate", "--model", demo, "--memory-budget", "64KiB", prompt])
        #expect(refused.status != 0 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("over the limit of 64 KiB") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        let huge = try CLI.run(["generate", "--model", demo, "--max-new-tokens", "1048576", "--memory-budget", "1GiB", prompt])
        #expect(huge.status != 0 && huge.stderr.contains("1048576 decoder steps"), "\(huge.stderr)")
        let reference = try CLI.run(["generate", "--model", demo, "--max-new-tokens", "1000", prompt])
        #expect(reference.status == 0)
        let unbounded = try CLI.run(["generate", "--model", demo, "--max-new-tokens", "1048576", prompt])
        #expect(unbounded.status == 0 && unbounded.stdout == reference.stdout, "\(unbounded.stderr)")
        for format in ["f16", "int8"] {
            let r = try CLI.run(["generate", "--model", demo, "--kv-cache", format, prompt])
            #expect(r.status == 0 && !r.stdout.isEmpty, "\(format): \(r.stderr)")
        }
        for size in ["x", "0", "-1GiB", "2XB", "1e30GiB"] {
            let r = try CLI.run(["generate", "--model", demo, "--memory-budget=\(size)", prompt])
            #expect(r.status != 0 && r.stderr.contains("is not a size"), "\(size): \(r.stderr)")
        }
        let ok = try CLI.run(["generate", "--model", demo, "--memory-budget", "1.5g", "--max-new-tokens", "8", prompt])
        #expect(ok.status == 0, "\(ok.stderr)")
        let bad = try CLI.run(["generate", "--model", demo, "--kv-cache", "f8", prompt])
        #expect(bad.status != 0 && bad.stderr.contains("--kv-cache"), "\(bad.stderr)")
    }

    /// `--int8-activations`: refused in one line on a model without int8 weights; answers on a converted int8 one.
    @Test func int8ActivationsFlag() throws {
        let demo = Demo.directory.path
        let prompt = "Is 17 greater than 9?"
        let refused = try CLI.run(["generate", "--model", demo, "--int8-activations", prompt])
        #expect(refused.status != 0 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("int8 activations need int8 weights") && refused.stderr.split(separator: "\n").count == 1,
                "\(refused.stderr)")
        let int8 = FileManager.default.temporaryDirectory.appendingPathComponent("t5-w8a8-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: int8) }
        // Options of running a model are refused by convert, before anything is written.
        for flags in [["--int8-activations"], ["--kv-cache", "int8"], ["--memory-budget", "1GiB"]] {
            let notForConvert = try CLI.run(["convert", "--model", demo, "--out", int8.path, "--dtype", "int8"] + flags)
            #expect(notForConvert.status != 0 && notForConvert.stderr.contains("not to convert"), "\(flags): \(notForConvert.stderr)")
            #expect(!FileManager.default.fileExists(atPath: int8.path))
        }
        let converted = try CLI.run(["convert", "--model", demo, "--out", int8.path, "--dtype", "int8"])
        #expect(converted.status == 0, "\(converted.stderr)")
        let answered = try CLI.run(["generate", "--model", int8.path, "--int8-activations", "--max-new-tokens", "16", prompt])
        #expect(answered.status == 0 && !answered.stdout.isEmpty, "\(answered.stderr)")
    }
}
