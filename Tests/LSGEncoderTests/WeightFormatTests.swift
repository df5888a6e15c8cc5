import Checkpoint
import Foundation
import Golden
import LSGEncoder
import SafeTensors
import Testing

@Suite("Weight formats")
struct WeightFormatTests {
    /// The fixture's weights rewritten in `dtype` into a scratch model directory.
    func convertedModel(_ source: URL, to dtype: DType) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lsg-encoder-\(dtype)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for tensor in file.tensors {
            if tensor.dtype == .f32 {
                try writer.add(tensor.name, floats: try file.floats(tensor.name), shape: tensor.shape, as: dtype)
            } else {
                let bytes = try file.withBytes(of: tensor.name) { Data($0) }
                try writer.add(tensor.name, dtype: tensor.dtype, shape: tensor.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
            }
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        return directory
    }

    @Test("F16 and BF16 checkpoints are widened to F32 and give the F32 results up to their rounding",
          arguments: [(DType.f16, Float(2e-2)), (DType.bf16, Float(2e-1))])
    func halfPrecisionWeights(dtype: DType, tolerance: Float) throws {
        let golden = try loadCase("camembert-norm-b16-s16-f2-g1-adaptive.safetensors.zst")
        let directory = try convertedModel(golden.modelURL, to: dtype)
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = try golden.run(model: ModelDirectory(url: golden.modelURL))
        let widened = try golden.run(model: ModelDirectory(url: directory))
        let expected = try #require(reference["last_hidden_state"]).values
        let actual = try #require(widened["last_hidden_state"]).values
        let worst = zip(expected, actual).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst > 0, "the \(dtype) copy should round some weights")
        #expect(worst < tolerance)
    }
}
