// swift-tools-version:6.0
// T5 / Flan-T5 inference in pure Swift over OpenBLAS.
import PackageDescription

// Opt-in SIMD code generation for the hand-written kernels, e.g. `T5_TARGET_CPU=x86-64-v4 swift build -c release`.
// Without it Swift targets baseline x86-64 (SSE2), which is portable but makes the int8 kernels several times slower.
// An environment switch rather than unconditional `unsafeFlags`, which would bar this package from being a versioned dependency.
let targetCPU = Context.environment["T5_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
let engineSwiftSettings: [SwiftSetting] = targetCPU.map { [.unsafeFlags(["-target-cpu", $0]), .define("T5_TARGET_CPU_SET")] } ?? []

let package = Package(
    name: "swift-t5",
    products: [
        .library(name: "T5Engine", targets: ["T5Engine"]),
        .executable(name: "t5", targets: ["T5CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Debian's OpenBLAS (cblas.h); every dense matmul goes through it.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "T5Engine",
            dependencies: ["CBLAS"],
            resources: [.copy("Tokenizer/Resources/t5-tokenizer")],
            swiftSettings: engineSwiftSettings
        ),
        .executableTarget(
            name: "T5CLI",
            dependencies: [
                "T5Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A small program embedding the library, as another package would (README, "Library").
        .executableTarget(
            name: "EmbedT5Example",
            dependencies: ["T5Engine"],
            path: "Examples/EmbedT5"
        ),
        .testTarget(
            name: "T5EngineTests",
            dependencies: ["T5Engine"],
            // Tests read fixtures from the source tree (#filePath), so no resource bundle copy is made.
            exclude: ["Fixtures"]
        ),
    ]
)
