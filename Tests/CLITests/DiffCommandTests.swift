import Foundation
import JSON
import SafeTensors
import Testing
import TestSupport

/// `lsg-convert diff A B`: what differs, across formats, and the exit status (0 identical,
/// 1 different, 2 error).
@Suite struct DiffCommandTests {
    static let pytorchResources = repositoryRoot.appendingPathComponent("Tests/PyTorchCheckpointTests/Resources")
    static let camembert = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")

    @Test func binAndSafeTensorsOfTheSameTensorsAreIdentical() throws {
        let result = try runTool(["diff", Self.pytorchResources.appendingPathComponent("state_dict.bin").path,
                                  Self.pytorchResources.appendingPathComponent("state_dict.safetensors").path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("identical: 15 tensors with the same dtype, shape and values"))
    }

    @Test func aSingleBinAndItsShardsAreIdentical() throws {
        let result = try runTool(["diff", "--json", Self.pytorchResources.appendingPathComponent("camembert-tiny/pytorch_model.bin").path,
                                  Self.pytorchResources.appendingPathComponent("camembert-tiny-sharded").path])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try JSONValue.parse(result.standardOutput)
        #expect(report["identical"] == .bool(true))
        #expect(report["unchanged"] == .int(44))
    }

    @Test func theBinHoldsTheTiedCopiesTheSafeTensorsLeavesOut() throws {
        let result = try runTool(["diff", Self.camembert.path, Self.pytorchResources.appendingPathComponent("camembert-tiny/pytorch_model.bin").path])
        #expect(result.status == 1, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("added    lm_head.decoder.bias  F32 [257]"))
        #expect(lines.contains("added    lm_head.decoder.weight  F32 [257, 32]"))
        #expect(lines.last == "summary: 2 added, 0 removed, 0 changed in dtype or shape, 0 changed in values, 42 unchanged")
    }

    @Test func compressedGoldenFilesCompare() throws {
        let encoder = goldenDirectory.appendingPathComponent("encoder")
        let golden = try #require(try FileManager.default.contentsOfDirectory(atPath: encoder.path).sorted().first { $0.hasSuffix(".safetensors.zst") })
        let path = encoder.appendingPathComponent(golden).path
        let result = try runTool(["diff", path, path])
        #expect(result.status == 0, "\(result.standardError)")
    }

    /// transformers loads `LayerNorm.gamma`/`beta` as `weight`/`bias`: a TF-era file and its
    /// re-save are the same checkpoint.
    @Test func comparesTFEraNamesAsTransformersLoadsThem() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var a = SafeTensorsWriter()
        var b = SafeTensorsWriter()
        try a.add("x.LayerNorm.gamma", floats: [1, 2], shape: [2])
        try a.add("x.LayerNorm.beta", floats: [3, 4], shape: [2])
        try b.add("x.LayerNorm.weight", floats: [1, 2], shape: [2])
        try b.add("x.LayerNorm.bias", floats: [3, 5], shape: [2])
        try a.write(to: scratch.file("a.safetensors"))
        try b.write(to: scratch.file("b.safetensors"))
        let result = try runTool(["diff", scratch.file("a.safetensors").path, scratch.file("b.safetensors").path])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardOutput.contains("x.LayerNorm.bias"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("0 added, 0 removed, 0 changed in dtype or shape, 1 changed in values, 1 unchanged"), "\(result.standardOutput)")
    }

    /// Two hand-made files with one difference of each kind.
    @Test func reportsEveryKindOfDifference() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var a = SafeTensorsWriter()
        var b = SafeTensorsWriter()
        try a.add("same", floats: [1, 2], shape: [2])
        try b.add("same", floats: [1, 2], shape: [2])
        try a.add("gone", floats: [1], shape: [1])
        try b.add("new", floats: [1], shape: [1], as: .bf16)
        try a.add("retyped", floats: [1, 2], shape: [2])
        try b.add("retyped", floats: [1, 2], shape: [2], as: .f16)
        try a.add("reshaped", floats: [1, 2, 3, 4], shape: [2, 2])
        try b.add("reshaped", floats: [1, 2, 3, 4], shape: [4])
        try a.add("values", floats: [1, 2, 3, 4], shape: [2, 2])
        try b.add("values", floats: [1, 2.5, 3, 3.75], shape: [2, 2])
        // Compared as numbers: -0 equals 0, NaN equals NaN.
        try a.add("zeros", floats: [0, .nan], shape: [2], as: .bf16)
        try b.add("zeros", floats: [-0.0, .nan], shape: [2], as: .bf16)
        try a.add("nan", floats: [1, 2], shape: [2])
        try b.add("nan", floats: [.nan, 2], shape: [2])
        try Self.addInt64s(&a, "ids", [5, -7, 9])
        try Self.addInt64s(&b, "ids", [5, 7, 9])
        try a.write(to: scratch.file("a.safetensors"))
        try b.write(to: scratch.file("b.safetensors"))

        let text = try runTool(["diff", scratch.file("a.safetensors").path, scratch.file("b.safetensors").path])
        #expect(text.status == 1, "\(text.standardError)")
        #expect(text.standardOutput == """
            A: \(scratch.file("a.safetensors").path)
            B: \(scratch.file("b.safetensors").path)
            removed  gone  F32 [1]
            added    new  BF16 [1]
            shape    reshaped  F32 [2, 2] -> F32 [4]
            dtype    retyped  F32 [2] -> F16 [2]
            values   ids  I64 [3]  1 of 3 elements differ, max abs difference 14
            values   nan  F32 [2]  1 of 2 elements differ, max abs difference nan
            values   values  F32 [2, 2]  2 of 4 elements differ, max abs difference 0.5
            summary: 1 added, 1 removed, 2 changed in dtype or shape, 3 changed in values, 2 unchanged

            """)

        let json = try runTool(["diff", "--json", scratch.file("a.safetensors").path, scratch.file("b.safetensors").path])
        #expect(json.status == 1)
        let report = try JSONValue.parse(json.standardOutput)
        #expect(report["identical"] == .bool(false))
        #expect(report["added"] == [["name": "new", "dtype": "BF16", "shape": [1]]])
        #expect(report["removed"] == [["name": "gone", "dtype": "F32", "shape": [1]]])
        #expect(report["changed_layout"] == [
            ["name": "reshaped", "a": ["dtype": "F32", "shape": [2, 2]], "b": ["dtype": "F32", "shape": [4]]],
            ["name": "retyped", "a": ["dtype": "F32", "shape": [2]], "b": ["dtype": "F16", "shape": [2]]],
        ])
        let values = try #require(report["changed_values"]?.arrayValue)
        #expect(values.map { $0["name"] } == ["ids", "nan", "values"])
        #expect(values[2] == ["name": "values", "dtype": "F32", "shape": [2, 2], "elements": 4, "differing_elements": 2, "max_abs_difference": 0.5])
        #expect(values[1]["max_abs_difference"] == "nan")
        #expect(report["unchanged"] == .int(2))
    }

    static func addInt64s(_ writer: inout SafeTensorsWriter, _ name: String, _ values: [Int64]) throws {
        try writer.add(name, dtype: .i64, shape: [values.count]) { sink in
            try values.map(\.littleEndian).withUnsafeBytes { try sink($0) }
        }
    }

    @Test func errorsExitTwoWithOneLine() throws {
        let missing = try runTool(["diff", Self.camembert.path, "/nonexistent/model"])
        #expect(missing.status == 2)
        #expect(missing.errorLines == ["Error: /nonexistent/model: no such file or directory"])

        let marker = "/tmp/lsg-convert-pytorch-fixture-payload-ran"
        try? FileManager.default.removeItem(atPath: marker)
        let hostile = Self.pytorchResources.appendingPathComponent("hostile/reduce_os_system.bin")
        let refused = try runTool(["diff", hostile.path, Self.camembert.path])
        #expect(refused.status == 2)
        #expect(refused.errorLines == ["Error: \(hostile.path): pickle: refuses global 'posix.system': only the globals of a tensor state dict are allowed"])
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
