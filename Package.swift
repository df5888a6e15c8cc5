// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "lsg-convert",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lsg-convert", targets: ["lsg-convert"]),
        .library(name: "LSGErrors", targets: ["LSGErrors"]),
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "TextTasks", targets: ["TextTasks"]),
        .library(name: "Checkpoint", targets: ["Checkpoint"]),
        .library(name: "PyTorchCheckpoint", targets: ["PyTorchCheckpoint"]),
        .library(name: "LSGEncoder", targets: ["LSGEncoder"]),
        .library(name: "LSGConversion", targets: ["LSGConversion"]),
        .library(name: "Golden", targets: ["Golden"]),
        .library(name: "Hub", targets: ["Hub"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        // HTTP for hub downloads: SwiftNIO with BoringSSL, linked statically (URLSession's Linux
        // implementation needs libcurl at run time, which a bare system lacks).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
    ],
    targets: [
        // System libraries (apt: libzstd-dev, libopenblas-dev).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // Asynchronous writeback of a file range (Linux sync_file_range), for the atomic writer.
        .target(name: "CFileWriteback"),
        // The one error type of the libraries: a kind to match, the file or option concerned, a one-line problem.
        .target(name: "LSGErrors"),
        // JSON as Python reads and writes it (and strict RFC 8259 for safetensors headers): one
        // parser, the Python-style serializer, ordered objects.
        .target(name: "JSON", dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]),
        // Files: mapped and regular files, the atomic writer, temporary names, JSON files.
        .target(name: "FileIO", dependencies: ["LSGErrors", "JSON", "CFileWriteback"]),
        // The safetensors format only: header parsing and validation, reader, writer, dtypes.
        .target(name: "SafeTensors", dependencies: ["LSGErrors", "JSON", "FileIO"]),
        // Independent work items over a fixed number of workers, results independent of scheduling.
        .target(name: "Parallel"),
        // Streaming zstd compression and decompression over the system libzstd.
        .target(name: "Zstd", dependencies: ["LSGErrors", "CZstd"]),
        // Tokenizer files as transformers reads them: the vocabulary and special-token ids AutoTokenizer reports.
        .target(name: "Tokenizers", dependencies: ["LSGErrors", "JSON", "FileIO", "SafeTensors", "Parallel"]),
        // A model directory: typed config, tensor store (single or sharded), tokenizer files, name resolution.
        .target(
            name: "Checkpoint",
            dependencies: ["LSGErrors", "JSON", "FileIO", "SafeTensors", "PyTorchCheckpoint", "Tokenizers", "Zstd", "Parallel", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // PyTorch `.bin` checkpoints (torch zip or legacy format) through a restricted unpickler that never runs code.
        .target(name: "PyTorchCheckpoint", dependencies: ["LSGErrors", "FileIO", "SafeTensors"]),
        // The encoder's elementwise kernels and row reductions, per x86 vector level, picked at run time.
        .target(name: "CVectorKernels"),
        // CPU LSG encoder on BLAS: embeddings, local/sparse/global attention, heads.
        .target(name: "LSGEncoder", dependencies: ["LSGErrors", "Checkpoint", "SafeTensors", "Parallel", "CBLAS", "CVectorKernels"]),
        // Text in, predictions out: fill-mask and classification as transformers' pipelines compute them.
        .target(name: "TextTasks", dependencies: ["LSGErrors", "Checkpoint", "LSGEncoder", "Tokenizers", "FileIO"]),
        // Golden files (safetensors + zstd), comparison metrics, validation report.
        .target(name: "Golden", dependencies: ["LSGErrors", "FileIO", "SafeTensors", "Zstd", "LSGEncoder", "Checkpoint", "Tokenizers"]),
        // Stage protocol, pipeline, recipes, built-in stages.
        .target(name: "LSGConversion", dependencies: ["LSGErrors", "Checkpoint", "FileIO", "SafeTensors", "Golden", "LSGEncoder"]),
        // Pictures of LSG attention patterns (SVG), drawn from the encoder's attention layout.
        .target(name: "AttentionPlot", dependencies: ["LSGEncoder", "Checkpoint"]),
        // Hugging Face hub downloads into the standard cache (AsyncHTTPClient, sha256 checks via Checkpoint, resume).
        .target(
            name: "Hub",
            dependencies: [
                "LSGErrors", "Checkpoint", "FileIO", "SafeTensors",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The command line: thin ArgumentParser commands over the libraries.
        .target(
            name: "LSGConvertCLI",
            dependencies: [
                "LSGErrors", "FileIO", "SafeTensors", "Zstd", "Checkpoint", "LSGEncoder", "Golden", "LSGConversion", "Hub", "AttentionPlot",
                "Tokenizers", "TextTasks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildInfo"]
        ),
        .executableTarget(name: "lsg-convert", dependencies: ["LSGConvertCLI"]),
        // Compiles the version (VERSION) and the git commit into LSGConvertCLI before each build.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // Benchmark helpers for scripts/bench: sgemm peak with the encoder's BLAS, random checkpoints and inputs, tokenizer timing.
        .executableTarget(
            name: "lsg-bench",
            dependencies: [
                "CBLAS", "JSON", "SafeTensors", "Checkpoint", "LSGEncoder", "Tokenizers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "JSONTests", dependencies: ["JSON", "SafeTensors", "TestSupport"], resources: [.copy("Resources")]),
        .testTarget(name: "FileIOTests", dependencies: ["LSGErrors", "FileIO", "JSON", "TestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["LSGErrors", "SafeTensors", "FileIO", "TestSupport"], resources: [.copy("Resources")]),
        .testTarget(name: "ZstdTests", dependencies: ["LSGErrors", "Zstd"]),
        .testTarget(name: "ParallelTests", dependencies: ["Parallel"]),
        .testTarget(name: "PyTorchCheckpointTests", dependencies: ["LSGErrors", "PyTorchCheckpoint", "SafeTensors"], resources: [.copy("Resources")]),
        .testTarget(name: "TextTasksTests", dependencies: ["LSGErrors", "TextTasks", "Checkpoint", "LSGEncoder", "JSON", "Zstd", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["LSGErrors", "Tokenizers", "JSON", "Zstd"]),
        .testTarget(name: "CheckpointTests", dependencies: ["LSGErrors", "Checkpoint", "SafeTensors"]),
        .testTarget(name: "LSGEncoderTests", dependencies: ["LSGErrors", "LSGEncoder", "CVectorKernels", "Golden", "Checkpoint", "SafeTensors", "JSON", "TestSupport"]),
        .testTarget(name: "GoldenTests", dependencies: ["LSGErrors", "Golden", "SafeTensors", "Zstd"]),
        .testTarget(name: "LSGConversionTests", dependencies: ["LSGErrors", "LSGConversion", "Checkpoint", "SafeTensors", "Golden", "LSGEncoder"]),
        .testTarget(name: "CLITests", dependencies: ["LSGErrors", "LSGConvertCLI", "SafeTensors", "Checkpoint", "Golden", "Zstd", "TestSupport"]),
        .testTarget(name: "AttentionPlotTests", dependencies: ["AttentionPlot", "LSGEncoder", "Checkpoint"]),
        .testTarget(name: "HubTests", dependencies: ["LSGErrors", "Hub", "Checkpoint", "TestSupport"]),
        // Hostile inputs through the CLI, interrupted conversions, determinism.
        .testTarget(name: "ReliabilityTests", dependencies: ["LSGErrors", "TestSupport", "SafeTensors", "Checkpoint", "LSGConversion"]),
        // Shared by the test targets: repository paths, scratch directories, running the built tool.
        .target(
            name: "TestSupport",
            dependencies: ["LSGErrors", "FileIO", "Zstd", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TestSupport"
        ),
    ]
)
