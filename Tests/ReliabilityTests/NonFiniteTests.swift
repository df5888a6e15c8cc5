import Foundation
import JSON
import SafeTensors
import Testing
import TestSupport

/// `inspect --check-finite` and the conversion's refusal of NaN and infinity in the tensors it
/// computes from.
@Suite struct NonFiniteTests {
    /// The fixture with some values of `tensor` replaced by `values` (element index -> value).
    static func poison(_ source: URL, tensor: String, _ values: [Int: Float]) throws {
        let url = source.appendingPathComponent("model.safetensors")
        let original = try SafeTensorsFile(data: try Data(contentsOf: url), name: url.path)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for info in original.tensors {
            var floats = try original.floats(info.name)
            if info.name == tensor { for (index, value) in values { floats[index] = value } }
            try writer.add(info.name, floats: floats, shape: info.shape, as: info.dtype)
        }
        try writer.write(to: url)
    }

    static let positions = "roberta.embeddings.position_embeddings.weight"
    static let words = "roberta.embeddings.word_embeddings.weight"

    @Test func inspectCountsNaNAndInfinityPerTensor() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        try Self.poison(source, tensor: Self.positions, [3: .nan, 70: .infinity, 71: -.infinity])
        let result = try runTool(["inspect", "--check-finite", source.path])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("non-finite: \(Self.positions) (model.safetensors): 1 NaN, 2 infinite"))
        #expect(result.standardOutput.contains("1 of "))
        #expect(result.errorLines == ["\(source.path): 1 tensors hold NaN or infinite values"])

        let json = try runTool(["inspect", "--check-finite", "--json", source.path])
        #expect(json.status == 1)
        let tensors = try #require(try JSONValue.parse(json.standardOutput)["tensors"]?.arrayValue)
        let entry = try #require(tensors.first { $0["name"]?.stringValue == Self.positions })
        #expect(entry["nan"] == .int(1) && entry["inf"] == .int(2))
        #expect(tensors.allSatisfy { $0["name"]?.stringValue == Self.positions || $0["nan"] == .int(0) })
    }

    @Test func inspectOfAFiniteCheckpointPasses() throws {
        let result = try runTool(["inspect", "--check-finite", goldenDirectory.appendingPathComponent("fixtures/bert-tiny").path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("finite: all "))
    }

    @Test("conversion refuses non-finite values in the tensors it computes from", arguments: [
        (positions, [600: Float.nan]), (words, [5 * 32 + 1: -Float.infinity]),
    ])
    func conversionRefusesNonFiniteSources(_ tensor: String, _ values: [Int: Float]) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        try Self.poison(source, tensor: tensor, values)
        let before = try digests(of: source)
        let output = scratch.file("out")
        let refused = try runTool(["--from", source.path, "--max-length", "1024", "--out", output.path])
        expectRefusal(refused, containing: [source.appendingPathComponent("model.safetensors").path + ": tensor '\(tensor)' holds",
                                            "--allow-non-finite"])
        #expect(try entries(of: scratch.url) == ["source"])

        let allowed = try runTool(["--from", source.path, "--max-length", "1024", "--out", output.path, "--allow-non-finite", "--no-validate"])
        #expect(allowed.status == 0, "\(allowed.standardError)")
        #expect((allowed.standardOutput + allowed.standardError).contains("kept: --allow-non-finite"))
        // With validation on, the validate stage finds the non-finite values in the written tensors.
        let validated = scratch.file("validated")
        let checked = try runTool(["--from", source.path, "--max-length", "1024", "--out", validated.path, "--allow-non-finite"])
        #expect(checked.status == 1, "\(checked.standardError)")
        #expect(checked.standardError.contains("validation failed: ") && checked.standardError.contains("\(tensor): "),
                "\(checked.standardError)")
        #expect(!FileManager.default.fileExists(atPath: validated.path))
        #expect(try digests(of: source) == before)
    }
}
