import Foundation
import JSON
import Testing
import TestSupport

/// `--version` (the VERSION file, the git commit, the OpenBLAS kernel), the same values in the
/// manifest and the model card, and built-in recipes by name from any working directory.
@Suite struct VersionAndLocationTests {
    static let fixture = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")
    static let golden = "golden/readback/bundled-camembert-tiny-4096.safetensors.zst"

    static func versionFile() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `git rev-parse HEAD` of the repository, or nil when it is not a checkout or git is absent.
    static func gitHead() -> String? {
        guard FileManager.default.fileExists(atPath: repositoryRoot.appendingPathComponent(".git").path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", repositoryRoot.path, "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The three lines of `--version`: version, commit (nil when unknown), OpenBLAS kernel.
    static func reportedVersion() throws -> (version: String, commit: String?, kernel: String, config: String) {
        let result = try runTool(["--version"])
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(result.standardOutput)")
        #expect(lines[0].hasPrefix("lsg-convert "))
        #expect(lines[1].hasPrefix("commit: "))
        #expect(lines[2].hasPrefix("OpenBLAS: kernel "))
        let commit = String(lines[1].dropFirst("commit: ".count))
        let blas = lines[2].dropFirst("OpenBLAS: kernel ".count)
        let kernel = try #require(blas.split(separator: " ").first.map(String.init))
        let config = String(blas.dropFirst(kernel.count + 2).dropLast())
        return (String(lines[0].dropFirst("lsg-convert ".count)),
                commit.hasPrefix("unknown") ? nil : commit, kernel, config)
    }

    @Test func versionNamesTheVersionFileTheCommitAndTheOpenBLASKernel() throws {
        let reported = try Self.reportedVersion()
        #expect(reported.version == (try Self.versionFile()))
        if let head = Self.gitHead() {
            // Built from this checkout: its commit, `-dirty` when tracked files were changed.
            #expect(reported.commit == head || reported.commit == head + "-dirty", "\(reported.commit ?? "nil") vs \(head)")
        }
        #expect(!reported.kernel.isEmpty && reported.kernel != "unknown")
        #expect(reported.config.hasPrefix("OpenBLAS "), "\(reported.config)")
    }

    @Test func manifestAndModelCardRecordTheSameValues() throws {
        let reported = try Self.reportedVersion()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("out")
        let converted = try runTool(["--from", Self.fixture.path, "--max-length", "1024", "--out", output.path, "--no-validate"])
        try #require(converted.status == 0, "\(converted.standardError)")

        let tool = try #require(try JSONValue.load(contentsOf: output.appendingPathComponent("lsg-manifest.json"))["tool"])
        #expect(tool["version"]?.stringValue == reported.version)
        #expect(tool["commit"]?.stringValue == reported.commit)
        #expect(tool["blas"]?["kernel"]?.stringValue == reported.kernel)
        #expect(tool["blas"]?["config"]?.stringValue == reported.config)

        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        let commit = reported.commit.map { " (commit `\($0)`)" } ?? ""
        #expect(card.contains("- Tool: lsg-convert \(reported.version)\(commit), recipe `"), "\(card)")
        #expect(card.contains("- BLAS: OpenBLAS kernel `\(reported.kernel)` (`\(reported.config)`)"), "\(card)")
    }

    /// `--recipe camembert-tiny-4096` by name from the repository root, from `/` and from a
    /// temporary directory: the recipe is the binary's own everywhere; its golden file is found
    /// relative to the recipe (the repository's conversions/ folder) or refused in one line,
    /// and `--no-validate` leaves it out.
    @Test func aBuiltInRecipeByNameFromAnyDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let elsewhere = scratch.file("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let arguments = ["--from", Self.fixture.path, "--recipe", "camembert-tiny-4096"]

        let inRepository = try runTool(arguments + ["--out", scratch.file("repository").path], in: repositoryRoot)
        #expect(inRepository.status == 0, "\(inRepository.standardError)")
        #expect(inRepository.standardOutput.contains("golden case bundled-camembert-tiny-4096: passed"), "\(inRepository.standardOutput)")
        let reference = try Data(contentsOf: scratch.file("repository/model.safetensors"))

        for (index, directory) in [URL(fileURLWithPath: "/"), elsewhere].enumerated() {
            let refused = try runTool(arguments + ["--out", scratch.file("refused-\(index)").path], in: directory)
            #expect(refused.status == 1)
            #expect(refused.errorLines.count == 1, "\(refused.standardError)")
            let expected = directory.appendingPathComponent(Self.golden).standardizedFileURL.path
            #expect(refused.standardError.contains("no file \(expected)"), "\(refused.standardError)")
            #expect(refused.standardError.contains("--no-validate"), "\(refused.standardError)")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("refused-\(index)").path))

            let unvalidated = try runTool(arguments + ["--out", scratch.file("unvalidated-\(index)").path, "--no-validate"],
                                          in: directory)
            #expect(unvalidated.status == 0, "\(unvalidated.standardError)")
            #expect(try Data(contentsOf: scratch.file("unvalidated-\(index)/model.safetensors")) == reference)
        }

        // A directory laid out like the repository around the golden file, without conversions/:
        // the built-in recipe's golden path is relative to where its file sits in the repository.
        let laidOut = scratch.file("laid-out")
        let goldenCopy = laidOut.appendingPathComponent(Self.golden)
        try FileManager.default.createDirectory(at: goldenCopy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent(Self.golden), to: goldenCopy)
        let validated = try runTool(arguments + ["--out", "out"], in: laidOut)
        #expect(validated.status == 0, "\(validated.standardError)")
        #expect(validated.standardOutput.contains("golden case bundled-camembert-tiny-4096: passed"), "\(validated.standardOutput)")
        #expect(try Data(contentsOf: laidOut.appendingPathComponent("out/model.safetensors")) == reference)
    }
}
