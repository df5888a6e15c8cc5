import Foundation
import JSON
import SafeTensors
import Testing
import TestSupport

/// `inspect --json` against listings computed in Python from the reference converter's output.
@Suite struct InspectCommandTests {
    @Test(arguments: ["camembert-tiny-default", "camembert-tiny-two-shards"])
    func jsonMatchesAnIndependentReader(conversionCase: String) throws {
        let caseDirectory = goldenDirectory.appendingPathComponent("conversions/\(conversionCase)")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let model = scratch.file("model")
        try unpackZstdDirectory(caseDirectory.appendingPathComponent("reference"), into: model)

        let result = try runTool(["inspect", "--json", model.path])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try JSONValue.parse(result.standardOutput)
        let expected = try JSONValue.load(contentsOf: caseDirectory.appendingPathComponent("inspect-expected.json"))

        let expectedTensors = try #require(expected["tensors"]?.objectValue)
        let tensors = try #require(report["tensors"]?.arrayValue)
        #expect(tensors.count == expectedTensors.count)
        #expect(report["total_parameters"] == expected["parameter_count"])
        for tensor in tensors {
            let name = try #require(tensor["name"]?.stringValue)
            let reference = try #require(expectedTensors[name], "unexpected tensor \(name)")
            #expect(tensor["dtype"] == reference["dtype"], "\(name)")
            #expect(tensor["shape"] == reference["shape"], "\(name)")
            #expect(tensor["sha256"] == reference["sha256"], "\(name)")
            #expect(tensor["file"] == reference["file"], "\(name)")
        }
        let expectedFiles = try #require(expected["files"]?.arrayValue).compactMap { $0["file"]?.stringValue }
        let files = try #require(report["files"]?.arrayValue).compactMap { $0.stringValue }
        #expect(files.filter { $0.hasSuffix(".safetensors") } == expectedFiles)
    }

    @Test func tableGroupsByModuleAndSummarisesTheConfig() throws {
        let fixture = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")
        let result = try runTool(["inspect", fixture.path])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("roberta.embeddings (") })
        #expect(lines.contains { $0.hasPrefix("roberta.encoder.layer.1 (") })
        #expect(lines.contains { $0.hasPrefix("total: ") && $0.contains("parameters") })
        #expect(lines.contains { $0.hasPrefix("config: camembert CamembertForMaskedLM") })
    }

    @Test func inspectsCompressedGoldenFiles() throws {
        let golden = try #require(
            try FileManager.default.contentsOfDirectory(atPath: goldenDirectory.appendingPathComponent("encoder").path)
                .sorted().first { $0.hasSuffix(".safetensors.zst") })
        let result = try runTool(["inspect", "--json", goldenDirectory.appendingPathComponent("encoder/\(golden)").path])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try JSONValue.parse(result.standardOutput)
        let names = try #require(report["tensors"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        #expect(names.contains("input_ids"))
        #expect(names.contains("expected.last_hidden_state"))
    }

    @Test func missingPathIsAOneLineError() throws {
        let result = try runTool(["inspect", "/nonexistent/model.safetensors"])
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.contains("/nonexistent/model.safetensors: no such file or directory"))
    }
}
