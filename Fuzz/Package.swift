// swift-tools-version: 6.0
// libFuzzer targets for lsg-convert. A separate package so the fuzz-only build flags never
// touch the main package's `swift build` / `swift test`. Build and run with `Fuzz/run`
// (see Fuzz/README.md).
import PackageDescription

let package = Package(
    name: "lsg-convert-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "lsg-convert", path: "..")],
    targets: [
        // Calls libFuzzer's driver from a Swift `main` (SwiftPM gives executables their own entry point).
        .target(name: "FuzzerDriver"),
        // The safetensors header parser and reader, and the shard index parser.
        .executableTarget(
            name: "FuzzSafeTensors",
            dependencies: [
                "FuzzerDriver", .product(name: "SafeTensors", package: "lsg-convert"),
                .product(name: "LSGErrors", package: "lsg-convert"),
            ]
        ),
        // The torch checkpoint reader (pytorch_model.bin, zip or legacy layout): zip directory, restricted unpickler.
        .executableTarget(
            name: "FuzzPyTorch",
            dependencies: ["FuzzerDriver", .product(name: "PyTorchCheckpoint", package: "lsg-convert")]
        ),
        // config.json (ModelConfig, LSG settings) and recipes (Recipe, ConversionOptions).
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [
                "FuzzerDriver",
                .product(name: "JSON", package: "lsg-convert"),
                .product(name: "SafeTensors", package: "lsg-convert"),
                .product(name: "Checkpoint", package: "lsg-convert"),
                .product(name: "LSGConversion", package: "lsg-convert"),
            ]
        ),
    ]
)
