// `t5 convert` never harms its input and never leaves a half-written folder that looks valid:
// an unwritable destination fails cleanly, and a process killed mid-write leaves no output folder.
import Foundation
import Testing
@testable import T5Engine

@Suite struct ConvertSafetyTests {
    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t5-convert-safety-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func unwritableDestinationFailsAndLeavesNothing() throws {
        let input = Fixtures.modelDirectory("v11-gated")
        let before = try Data(contentsOf: input.appendingPathComponent("model.safetensors"))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A regular file where a folder is needed: nothing can be created below it.
        let file = dir.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        #expect(throws: ConvertError.self) {
            try ModelConverter.convert(input: input, output: file.appendingPathComponent("out"), dtype: .int8)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["not-a-folder"])
        #expect(try Data(contentsOf: input.appendingPathComponent("model.safetensors")) == before)
    }

    /// A folder the user may not write to (root ignores permissions, so the command runs as `nobody`).
    @Test func readOnlyDestinationFailsWithOneLine() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let out = dir.appendingPathComponent("out")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.executable().path,
                             "convert", "--model", Fixtures.modelDirectory("v11-gated").path, "--out", out.path, "--dtype", "f16"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(message.hasPrefix("t5: error:"), "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// Kill the converter while its `.partial-<pid>` folder exists: the output path must not exist afterwards.
    @Test func killedMidWriteLeavesNoValidLookingOutput() throws {
        let input = Demo.directory
        let weights = input.appendingPathComponent("model.safetensors")
        let before = try Data(contentsOf: weights)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var interrupted = 0
        for attempt in 0..<5 where interrupted == 0 {
            let out = dir.appendingPathComponent("out-\(attempt)")
            let process = Process()
            process.executableURL = CLI.executable()
            process.arguments = ["convert", "--model", input.path, "--out", out.path, "--dtype", "int8"]
            process.standardOutput = Pipe()
            process.standardError = FileHandle.nullDevice
            try process.run()
            let partial = out.path + ".partial-\(process.processIdentifier)"
            let deadline = ContinuousClock.now + .seconds(30)
            while process.isRunning, ContinuousClock.now < deadline {
                if FileManager.default.fileExists(atPath: partial) {
                    kill(process.processIdentifier, SIGKILL)
                    break
                }
                usleep(200)
            }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal {
                interrupted += 1
                #expect(!FileManager.default.fileExists(atPath: out.path), "a killed convert left \(out.path)")
            }
        }
        #expect(interrupted > 0, "never caught the converter mid-write")
        #expect(try Data(contentsOf: weights) == before)
    }
}
