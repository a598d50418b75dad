// swift-tools-version:6.0
// T5 / Flan-T5 inference in pure Swift over OpenBLAS.
//
// Library targets, each depending only on those above it (the compiler enforces the direction):
//   T5Tokenizers   text <-> ids (SentencePiece Unigram); no dependencies, usable alone
//   T5Tensor       storage types: owned and mapped f32 tensors, scratch buffers, packed weight matrices
//   T5SafeTensors  the safetensors format (memory-mapped reader, writer) and its strict JSON parser
//   T5Kernels      matrix products (OpenBLAS and hand-written), norms, softmax, activations; the runtime (threads)
//   T5Modeling     config, weights by Hugging Face name, the forward pass, the decoding session
//   T5Generation   options, logits processors, samplers, greedy / sampling / beam search, chain-of-thought
//   T5Engine       the text-level API (model folder loader, T5Generator), conversion; re-exports the others
//   T5ServerAPI    OpenAI request / response types, strict decoding, the mapping to GenerationOptions (no NIO)
//   T5Server       `t5 serve`: HTTP (Hummingbird), the continuous-batching scheduler, metrics
import PackageDescription

// Opt-in code generation for the Swift SIMD code, e.g. `T5_TARGET_CPU=native swift build -c release`. The hot kernels
// need none: they are C in CT5Kernels, built for AVX2 and AVX-512 in every build and chosen by CPUID at run time. This
// only compiles the rest (norms, softmax, activations, the portable kernels) for one CPU: 1.5-3 % less CPU time on the
// whole bench (PERFORMANCE.md, "The README's build against T5_TARGET_CPU=native").
// An environment switch rather than unconditional `unsafeFlags`, which would bar this package from being a versioned dependency.
let targetCPU = Context.environment["T5_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
let kernelSwiftSettings: [SwiftSetting] = targetCPU.map { [.unsafeFlags(["-target-cpu", $0]), .define("T5_TARGET_CPU_SET")] } ?? []

let package = Package(
    name: "swift-t5",
    products: [
        .library(name: "T5Engine", targets: ["T5Engine"]),
        .library(name: "T5Tokenizers", targets: ["T5Tokenizers"]),
        .executable(name: "t5", targets: ["T5CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The server only (T5Server, T5CLI, T5ServerTests); the engine library stays free of NIO.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Debian's OpenBLAS (cblas.h); every large dense product goes through it.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "T5Tokenizers",
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/t5-tokenizer")]
        ),
        .target(name: "T5Tensor", swiftSettings: kernelSwiftSettings),
        .target(name: "T5SafeTensors", dependencies: ["T5Tensor"]),
        // The hot linear-layer kernels in C for AVX2 and AVX-512 (function-level target attributes, chosen by CPUID at
        // run time): vector code in every build without compiler flags, so also in packages that depend on this one.
        .target(name: "CT5Kernels"),
        .target(name: "T5Kernels", dependencies: ["CBLAS", "CT5Kernels", "T5Tensor"], swiftSettings: kernelSwiftSettings),
        .target(name: "T5Modeling", dependencies: ["T5Kernels", "T5SafeTensors", "T5Tensor"], swiftSettings: kernelSwiftSettings),
        .target(name: "T5Generation", dependencies: ["T5Modeling", "T5Kernels"]),
        .target(
            name: "T5Engine",
            dependencies: ["T5Tokenizers", "T5Generation", "T5Modeling", "T5Kernels", "T5SafeTensors", "T5Tensor"]
        ),
        .target(name: "T5ServerAPI", dependencies: ["T5Engine"]),
        .target(
            name: "T5Server",
            dependencies: [
                "T5Engine", "T5ServerAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            // The page is found on disk (beside the executable, PREFIX/share/swift-t5/public, or this source tree).
            exclude: ["Public"]
        ),
        .executableTarget(
            name: "T5CLI",
            dependencies: [
                "T5Engine", "T5Server",
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
            // CT5Kernels: the kernels' portable twins, called directly against the tests' definitions.
            dependencies: ["T5Engine", "CT5Kernels"],
            // Tests read fixtures from the source tree (#filePath), so no resource bundle copy is made.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "T5ServerTests",
            dependencies: [
                "T5Engine", "T5ServerAPI", "T5Server",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
