/// Helpers shared by the test targets: repository paths, scratch directories, running the built tool.
import Foundation
import Zstd

/// The repository root, found from this file's path.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

public let goldenDirectory = repositoryRoot.appendingPathComponent("golden")

/// What one run of the `lsg-convert` executable did.
public struct CommandResult: Sendable {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String

    /// The error output's non-empty lines.
    public var errorLines: [String] { standardError.split(separator: "\n").map(String.init) }
}

/// Runs the `lsg-convert` binary built next to the test bundle. Output goes through files, so a
/// large output can never block the child on a full pipe. `environment` is added to (and
/// overrides) the inherited environment.
public func runTool(_ arguments: [String], in directory: URL? = nil,
                    environment: [String: String] = [:]) throws -> CommandResult {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let outputURL = scratch.file("stdout")
    let errorURL = scratch.file("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    let output = try FileHandle(forWritingTo: outputURL)
    let error = try FileHandle(forWritingTo: errorURL)
    defer {
        try? output.close()
        try? error.close()
    }
    let process = Process()
    process.executableURL = try toolBinary()
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        standardOutput: try String(contentsOf: outputURL, encoding: .utf8),
        standardError: try String(contentsOf: errorURL, encoding: .utf8)
    )
}

/// The `lsg-convert` executable built next to the test bundle (for tests that drive a Process).
public func toolBinary() throws -> URL {
    // `swift build` puts the executable in the same folder as the test bundle.
    var directory = Bundle.main.bundleURL
    for _ in 0..<3 {
        let candidate = directory.appendingPathComponent("lsg-convert")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory.deleteLastPathComponent()
    }
    throw ToolNotBuilt()
}

public struct ToolNotBuilt: Error, CustomStringConvertible {
    public var description: String { "lsg-convert is not built next to the tests; run `swift build --build-tests` first" }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
public struct ScratchDirectory: Sendable {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lsg-convert-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Decompresses every `<name>.zst` of `source` into `destination/<name>`.
public func unpackZstdDirectory(_ source: URL, into destination: URL) throws {
    try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name.hasSuffix(".zst") {
        let data = try Zstd.decompressFile(at: source.appendingPathComponent(name))
        try data.write(to: destination.appendingPathComponent(String(name.dropLast(4))))
    }
}

/// A golden model directory made loadable in `destination`: plain files copied, `<name>.zst`
/// files decompressed to `<name>`, and so for each of `sharedFiles` (files several golden models
/// share, such as an encoder shard, stored once).
public func materializeGoldenModel(_ source: URL, sharedFiles: [URL] = [], into destination: URL) throws {
    try unpackZstdDirectory(source, into: destination)
    for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where !name.hasSuffix(".zst") {
        try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: destination.appendingPathComponent(name))
    }
    for file in sharedFiles {
        let name = file.lastPathComponent
        if name.hasSuffix(".zst") {
            try Zstd.decompressFile(at: file).write(to: destination.appendingPathComponent(String(name.dropLast(4))))
        } else {
            try FileManager.default.copyItem(at: file, to: destination.appendingPathComponent(name))
        }
    }
}
