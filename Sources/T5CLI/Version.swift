// `t5 --version`: the release number and how this binary was built, one `name: value` line per setting.
import Foundation
import T5Engine

enum T5Version {
    /// The release number. Bumped by hand for each release (nothing stamps it at build time).
    static let version = "0.6.0"

    /// `debug` or `release` (SwiftPM defines DEBUG in debug builds).
    static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    /// What `t5 --version` prints (ArgumentParser's `version:`, printed as given).
    static var report: String {
        [
            "t5 version: \(version)",
            "build configuration: \(buildConfiguration)",
            "SIMD target: \(SystemInfo.simdTarget)",
            "OpenBLAS core: \(SystemInfo.blasCoreName)",
            "Swift runtime: \(SystemInfo.swiftRuntimeLinkage)",
        ].joined(separator: "\n")
    }
}
