import Checkpoint
import Foundation
import JSON
import LSGConversion
import SafeTensors
import Testing

/// BART-style checkpoints as older uploads store them: every tied copy of the shared embeddings
/// written out (`encoder.embed_tokens`, `decoder.embed_tokens`, `lm_head`), fairseq's `version`
/// buffers, no `final_logits_bias`. transformers loads the copies into the one shared parameter,
/// ignores the buffers and starts the bias at zeros; the conversion must give the reference's
/// tensors (golden bart-tiny-default) with that bias.
struct EncoderDecoderLayoutTests {
    @Test func oldBARTLayoutConvertsLikeTheSafetensorsOne() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("bart-tiny", into: scratch)
        let weights = source.appendingPathComponent("model.safetensors")
        let original = try SafeTensorsFile(data: Data(contentsOf: weights), name: weights.path)
        let shared = try original.withBytes(of: "model.shared.weight") { Data($0) }
        let sharedInfo = try #require(original.info("model.shared.weight"))
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for info in original.tensors where info.name != "final_logits_bias" {
            let bytes = try original.withBytes(of: info.name) { Data($0) }
            try writer.add(info.name, dtype: info.dtype, shape: info.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        for copy in ["model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"] {
            try writer.add(copy, dtype: sharedInfo.dtype, shape: sharedInfo.shape) { sink in try shared.withUnsafeBytes { try sink($0) } }
        }
        for version in ["model.encoder.version", "model.decoder.version"] {
            try writer.add(version, floats: [2], shape: [1])
        }
        try writer.write(to: weights)

        let output = scratch.appendingPathComponent("out")
        var conversion = try ConversionFixtures.conversion(source: source, output: output) { $0.maxLength = 4096 }
        let context = try conversion.run()
        #expect(context.report.changes.contains { $0.hasPrefix("dropped") && $0.contains("model.encoder.version") && $0.contains("model.decoder.version") }, "\(context.report.changes)")

        let expected = try JSONValue.load(contentsOf: ConversionFixtures.conversions.appendingPathComponent("bart-tiny-default/tensors.json"))
        let store = try TensorStore(directory: output)
        for entry in try #require(expected["tensors"]?.arrayValue) {
            let name = try #require(entry["name"]?.stringValue)
            let hash = try #require(TensorHashing.sha256Hex(ofEach: [name], in: store).first)
            if name == "final_logits_bias" {
                #expect(try store.floats(name).allSatisfy { $0 == 0 }, "a missing final_logits_bias starts at zeros")
            } else {
                #expect(hash == entry["sha256"]?.stringValue, "\(name) differs from the reference's")
            }
        }
    }

    /// A fine-tuned BART classifier: the validation probe runs both models' classification heads
    /// on the decoder and compares their logits.
    @Test func aBARTClassifierIsValidatedThroughItsHead() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("bart-tiny", into: scratch)
        let weights = source.appendingPathComponent("model.safetensors")
        let original = try SafeTensorsFile(data: Data(contentsOf: weights), name: weights.path)
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for info in original.tensors where info.name != "final_logits_bias" {
            let bytes = try original.withBytes(of: info.name) { Data($0) }
            try writer.add(info.name, dtype: info.dtype, shape: info.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        let config = try ModelConfig.load(from: source.appendingPathComponent("config.json"))
        let hidden = config.hiddenSize
        func values(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { Float(($0 * 37) % 17 - 8) * scale } }
        try writer.add("classification_head.dense.weight", floats: values(hidden * hidden, 0.05), shape: [hidden, hidden])
        try writer.add("classification_head.dense.bias", floats: values(hidden, 0.01), shape: [hidden])
        try writer.add("classification_head.out_proj.weight", floats: values(3 * hidden, 0.07), shape: [3, hidden])
        try writer.add("classification_head.out_proj.bias", floats: values(3, 0.02), shape: [3])
        try writer.write(to: weights)
        var json = config.json
        json["architectures"] = ["BartForSequenceClassification"]
        try Data(JSONValue.object(json).pythonJSONString(indent: 2, sortKeys: true, ensureASCII: true).utf8)
            .write(to: source.appendingPathComponent("config.json"))

        var conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out"))
        let context = try conversion.run()
        let validation = context.report.validation.joined(separator: "\n")
        #expect(validation.contains("sequence-classification logits max difference"), "\(validation)")
        #expect(validation.contains("argmax agreement 100.00 % of 1"), "\(validation)")
    }
}
