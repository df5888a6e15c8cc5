import Crypto
import Foundation
import JSON
import SafeTensors
import Testing
import TestSupport

/// `lsg-convert [convert]` as users run it: replaying the golden cases' `cli_args`, option
/// errors, refusal of a non-empty output, dry runs and interruption.
struct ConvertCommandTests {
    static let caseNames: [String] = {
        let directory = goldenDirectory.appendingPathComponent("conversions")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/case.json").path)
        }.sorted()
    }()

    @Test func helpNamesEveryFamily() throws {
        for arguments in [["--help"], ["convert", "--help"]] {
            let help = try runTool(arguments)
            let text = help.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(help.status == 0)
            #expect(text.contains("(CamemBERT, RoBERTa, XLM-RoBERTa, BERT, DistilBERT, ELECTRA, ALBERT, BART, mBART, BARThez, Pegasus)"), "\(arguments)")
        }
    }

    @Test("the golden cases' command lines reproduce the reference's files", arguments: caseNames)
    func replayCommandLine(_ name: String) throws {
        let caseDirectory = goldenDirectory.appendingPathComponent("conversions/\(name)")
        let description = try JSONValue.load(contentsOf: caseDirectory.appendingPathComponent("case.json"))
        let values = try #require(description["cli_args"]?.arrayValue)
        let arguments = values.compactMap(\.stringValue)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("out")
        // Run from golden/ like the reference, so relative sources and _name_or_path agree.
        // With the reference's modeling file (a stand-in of the same name), auto_map is local as in its config.json.
        let modeling = try referenceModelingStandIn(caseDirectory: caseDirectory, in: scratch.url)
        let result = try runTool(arguments + ["--modeling-file", modeling.path, "--out", output.path], in: goldenDirectory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("validation: structure"))
        #expect(result.standardError.contains("writing tensors"))
        let files = try #require(description["reference_files"]?.objectValue)
        for (file, entry) in files where !file.hasSuffix(".py") {
            let url = output.appendingPathComponent(file)
            #expect(FileManager.default.fileExists(atPath: url.path), "\(file) missing")
            guard let sha256 = entry["sha256"]?.stringValue,
                  file.hasSuffix(".safetensors") || file.hasSuffix(".json") && file != "tokenizer.json" else { continue }
            #expect(try TensorHashingForTests.sha256(url) == sha256, "\(file) differs from the reference")
        }
    }

    @Test("option errors: one line, non-zero exit, nothing written", arguments: [
        (["--from", "x", "--block-size", "100", "--sparsity-factor", "3"], "block size 100 is not divisible by sparsity factor 3"),
        (["--from", "x", "--max-length", "0"], "max length must be positive"),
        (["--from", "x", "--max-length=-5"], "max length must be positive"),
        (["--from", "x", "--sparsity-type", "dense"], "--sparsity-type must be one of none, norm, pooling, lsh, stride, block_stride, bos_pooling (got 'dense')"),
        (["--from", "x", "--num-global-tokens", "0"], "--num-global-tokens must be at least 1 (got 0)"),
        (["--from", "x", "--mask-first-token", "--no-pool-with-global"], "--mask-first-token needs pooling"),
        (["--from", "x", "--dtype", "int8"], "unknown dtype 'int8'"),
        (["--from", "x", "--max-shard-size", "lots"], "--max-shard-size 'lots' is not a size"),
        (["--from", "x", "--global-stride", "0"], "global stride must be positive"),
        (["--max-length", "4096"], "no source model given (--from)"),
        (["--from", "./no-such-model"], "./no-such-model: not found"),
    ])
    func optionErrors(_ arguments: [String], _ message: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let result = try runTool(arguments, in: scratch.url)
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }

    enum BrokenSource: String, CaseIterable, Sendable {
        case unsupportedModelType, relativePositions, missingTensor

        var expectedMessage: String {
            switch self {
            case .unsupportedModelType: "config.json: model_type 'gpt2' is not supported"
            case .relativePositions: "config.json: position_embedding_type 'relative_key_query' is not supported"
            case .missingTensor: "missing 1 tensor(s) BertForPreTraining needs: bert.encoder.layer.0.output.dense.bias"
            }
        }

        /// A copy of the bert fixture broken this way.
        func make(in directory: URL) throws -> URL {
            let source = directory.appendingPathComponent("source")
            try FileManager.default.copyItem(at: goldenDirectory.appendingPathComponent("fixtures/bert-tiny"), to: source)
            let configURL = source.appendingPathComponent("config.json")
            var config = try #require(try JSONValue.load(contentsOf: configURL).objectValue)
            switch self {
            case .unsupportedModelType: config["model_type"] = "gpt2"
            case .relativePositions: config["position_embedding_type"] = "relative_key_query"
            case .missingTensor:
                let weights = source.appendingPathComponent("model.safetensors")
                let file = try SafeTensorsFile(contentsOf: weights)
                var writer = SafeTensorsWriter(metadata: ["format": "pt"])
                for tensor in file.tensors where tensor.name != "bert.encoder.layer.0.output.dense.bias" {
                    try writer.add(tensor.name, floats: try file.floats(tensor.name), shape: tensor.shape)
                }
                try writer.write(to: weights)
            }
            try Data(JSONValue.object(config).pythonJSONString().utf8).write(to: configURL)
            return source
        }
    }

    @Test("a source we cannot convert: one line, non-zero exit, nothing written", arguments: BrokenSource.allCases)
    func brokenSource(_ broken: BrokenSource) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try broken.make(in: scratch.url)
        let result = try runTool(["--from", source.path, "--max-length", "1024"], in: scratch.url)
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains(broken.expectedMessage), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["source"])
    }

    @Test func existingNonEmptyOutputIsRefusedUnlessForced() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
        try Data("x".utf8).write(to: output.appendingPathComponent("keep.txt"))
        let source = goldenDirectory.appendingPathComponent("fixtures/roberta-tiny").path
        let refused = try runTool(["--from", source, "--max-length", "600", "--out", output.path])
        #expect(refused.status != 0)
        #expect(refused.errorLines == ["Error: \(output.path): output directory is not empty (use --force to replace it)"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path) == ["keep.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["out"])

        let forced = try runTool(["convert", "--from", source, "--max-length", "600", "--out", output.path, "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("keep.txt").path))
    }

    @Test func dryRunPrintsThePlanAndWritesNothing() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = goldenDirectory.appendingPathComponent("fixtures/xlm-roberta-tiny").path
        let result = try runTool(["--from", source, "--max-length", "2048", "--dry-run"], in: scratch.url)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("Stages: resolve-source -> read-config"))
        #expect(result.standardOutput.contains("tiled: roberta.embeddings.position_embeddings.weight F32 [2050, 32]"))
        #expect(result.standardOutput.contains("model.safetensors"))
        #expect(result.standardOutput.contains(scratch.url.appendingPathComponent("lsg-xlm-roberta-tiny-2048").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }

    /// The standard recipes ship inside the binary: a name works outside the repository.
    @Test func aRecipeByNameWorksFromAnyDirectory() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny").path
        for directory in [URL(fileURLWithPath: "/"), scratch.url] {
            let result = try runTool(["--from", source, "--recipe", "camembert-base-4096", "--dry-run"], in: directory)
            #expect(result.status == 0, "\(directory.path): \(result.standardError)")
            #expect(result.standardOutput.hasPrefix("Plan: \(source) -> "), "\(result.standardOutput)")
        }
    }

    @Test("an interrupted conversion leaves nothing behind", arguments: [SIGTERM, SIGINT])
    func interruption(_ signalNumber: Int32) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("out")
        // A million positions: a 128 MB position table keeps the run busy long enough to interrupt.
        let process = Process()
        process.executableURL = try toolBinaryForTests()
        process.arguments = ["--from", goldenDirectory.appendingPathComponent("fixtures/bert-tiny").path,
                             "--max-length", "1000000", "--out", output.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let staging = scratch.file(".out.partial-\(pid)")
        // Look at the run only while it is stopped, so that what is seen (staging written, output
        // not yet renamed into place) still holds when the signal lands, however loaded the
        // machine is; the signal stays pending until SIGCONT.
        var caught = false
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && Date() < deadline {
            kill(pid, SIGSTOP)
            guard waitUntilStopped(pid) else { break }
            if FileManager.default.fileExists(atPath: staging.appendingPathComponent("config.json").path) {
                kill(pid, signalNumber)
                kill(pid, SIGCONT)
                caught = true
                break
            }
            kill(pid, SIGCONT)
            Thread.sleep(forTimeInterval: 0.005)
        }
        if !caught { process.terminate() }
        process.waitUntilExit()
        #expect(caught, "the conversion was never seen between writing config.json and its final rename")
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signalNumber,
                "\(process.terminationReason) \(process.terminationStatus)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }

    /// Waits until `pid` is in the stopped state (true) or gone (false), from /proc.
    private func waitUntilStopped(_ pid: Int32) -> Bool {
        while true {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return false }
            let state = stat[stat.index(end, offsetBy: 2)]
            if state == "T" || state == "t" { return true }
            if state == "Z" || state == "X" { return false }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }
}

enum TensorHashingForTests {
    static func sha256(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The `lsg-convert` binary next to the test bundle (as `runTool` finds it).
func toolBinaryForTests() throws -> URL {
    var directory = Bundle.main.bundleURL
    for _ in 0..<3 {
        let candidate = directory.appendingPathComponent("lsg-convert")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory.deleteLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile)
}
