import Foundation
import JSON
import SafeTensors
import Testing
import TestSupport

/// Converting from `pytorch_model.bin` (single or sharded) gives the same output files, byte for
/// byte, as converting from the model.safetensors of the same model, and the reference's files.
@Suite struct PyTorchSourceTests {
    static let resources = repositoryRoot.appendingPathComponent("Tests/PyTorchCheckpointTests/Resources")

    enum Source: String, CaseIterable {
        case safetensors, bin, shardedBin
    }

    /// `<root>/fixtures/camembert-tiny` with the golden fixture's files and the weights of `source`,
    /// so the golden command lines (relative `--from`) apply unchanged.
    static func makeSource(_ source: Source, under root: URL) throws {
        let fixture = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")
        let directory = root.appendingPathComponent("fixtures/camembert-tiny")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) where source == .safetensors || name != "model.safetensors" {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let weights: URL? = switch source {
        case .safetensors: nil
        case .bin: resources.appendingPathComponent("camembert-tiny")
        case .shardedBin: resources.appendingPathComponent("camembert-tiny-sharded")
        }
        guard let weights else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: weights.path) {
            try FileManager.default.copyItem(at: weights.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
    }

    @Test(arguments: ["camembert-tiny-default", "camembert-tiny-two-shards"])
    func binSourcesConvertToIdenticalFiles(_ caseName: String) throws {
        let caseDirectory = goldenDirectory.appendingPathComponent("conversions/\(caseName)")
        let description = try JSONValue.load(contentsOf: caseDirectory.appendingPathComponent("case.json"))
        let arguments = try #require(description["cli_args"]?.arrayValue).compactMap(\.stringValue)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }

        var outputs: [Source: URL] = [:]
        for source in Source.allCases {
            let root = scratch.file(source.rawValue)
            try Self.makeSource(source, under: root)
            let result = try runTool(arguments + ["--out", "out"], in: root)
            #expect(result.status == 0, "\(source): \(result.standardError)")
            outputs[source] = root.appendingPathComponent("out")
        }
        let expected = try #require(outputs[.safetensors])
        let names = try FileManager.default.contentsOfDirectory(atPath: expected.path).sorted()
        #expect(names.contains("config.json") && names.contains { $0.hasSuffix(".safetensors") })
        let referenceFiles = try #require(description["reference_files"]?.objectValue)
        for source in [Source.bin, .shardedBin] {
            let output = try #require(outputs[source])
            if source == .shardedBin && !arguments.contains("--max-shard-size") {
                // A sharded source gives a sharded output (its largest shard sets the size): the
                // same tensors in other files; everything else is the same.
                let diff = try runTool(["diff", expected.path, output.path])
                #expect(diff.status == 0, "\(diff.standardOutput)\(diff.standardError)")
                for name in names where !name.hasSuffix(".safetensors") && name != "lsg-manifest.json" {
                    let same = try Data(contentsOf: output.appendingPathComponent(name)) == (try Data(contentsOf: expected.appendingPathComponent(name)))
                    #expect(same, "\(source): \(name) differs from the safetensors source's")
                }
                continue
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).sorted() == names, "\(source)")
            for name in names where name != "lsg-manifest.json" {
                let same = try Data(contentsOf: output.appendingPathComponent(name)) == (try Data(contentsOf: expected.appendingPathComponent(name)))
                #expect(same, "\(source): \(name) differs from the safetensors source's")
            }
            // The manifest differs only where it records the source's own files and directory.
            #expect(try Self.manifestWithoutSourceFiles(output) == (try Self.manifestWithoutSourceFiles(expected)), "\(source)")
            let sourceFiles = try #require(try JSONValue.load(contentsOf: output.appendingPathComponent("lsg-manifest.json"))["source"]?["files"]?.objectValue)
            #expect(sourceFiles.keys.contains(source == .bin ? "pytorch_model.bin" : "pytorch_model.bin.index.json"))
            for name in names where name.hasSuffix(".safetensors") {
                let sha256 = try #require(referenceFiles[name]?["sha256"]?.stringValue)
                #expect(try TensorHashingForTests.sha256(output.appendingPathComponent(name)) == sha256, "\(source): \(name)")
            }
        }
    }

    static func manifestWithoutSourceFiles(_ output: URL) throws -> JSONValue {
        let manifest = try JSONValue.load(contentsOf: output.appendingPathComponent("lsg-manifest.json"))
        guard var object = manifest.objectValue, var source = object["source"]?.objectValue else { return manifest }
        source["files"] = nil
        source["directory"] = nil
        object["source"] = .object(source)
        return .object(object)
    }

    @Test func inspectListsTheBinTensors() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Self.makeSource(.shardedBin, under: scratch.url)
        let result = try runTool(["inspect", "--json", scratch.file("fixtures/camembert-tiny").path])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try JSONValue.parse(result.standardOutput)
        #expect(report["files"] == ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin", "pytorch_model.bin.index.json"])
        #expect(report["tensors"]?.arrayValue?.count == 44)
    }

    @Test func aHostileBinSourceIsRefusedAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Self.makeSource(.safetensors, under: scratch.url)
        let directory = scratch.file("fixtures/camembert-tiny")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: Self.resources.appendingPathComponent("hostile/builtins_eval.bin"),
                                         to: directory.appendingPathComponent("pytorch_model.bin"))
        let marker = "/tmp/lsg-convert-pytorch-fixture-payload-ran"
        try? FileManager.default.removeItem(atPath: marker)
        let result = try runTool(["--from", directory.path, "--max-length", "1024", "--out", scratch.file("out").path])
        #expect(result.status != 0)
        #expect(result.standardError.contains("\(directory.path)/pytorch_model.bin: pickle: refuses global '__builtin__.eval'"), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out").path))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
