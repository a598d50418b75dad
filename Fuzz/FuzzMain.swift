// libFuzzer driver for the targets in Tests/T5EngineTests/ReliabilityFuzzEntries.swift.
// One binary serves every target (the library is compiled once, with sanitizers); Scripts/fuzz.sh picks the
// target through T5_FUZZ_TARGET. Built only by that script, never by `swift build`.
import Foundation

/// The server's request decoder (Tests/T5ServerTests/RequestFuzzEntry.swift) is a target outside FuzzTarget, whose
/// entries live in the engine tests (which do not see T5ServerAPI).
private let isRequestTarget = ProcessInfo.processInfo.environment["T5_FUZZ_TARGET"] == "request"

private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["T5_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let known = (FuzzTarget.allCases.map(\.rawValue) + ["request"]).joined(separator: ", ")
        FileHandle.standardError.write(Data("T5_FUZZ_TARGET must be one of: \(known) (got \"\(name)\")\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if isRequestTarget {
        do { try RequestFuzzEntry.check(data) } catch {
            FileHandle.standardError.write(Data("invariant violated: \(error)\n".utf8))
            abort()
        }
        return 0
    }
    do {
        switch try target.run(data) {
        case .accepted:
            break
        case .rejected(let error):
            // A rejection must be the domain's typed error; anything else is a finding.
            if !target.isExpected(error) {
                FileHandle.standardError.write(Data("unexpected error type \(type(of: error)): \(error)\n".utf8))
                abort()
            }
        }
    } catch {
        FileHandle.standardError.write(Data("invariant violated: \(error)\n".utf8))
        abort()
    }
    return 0
}
