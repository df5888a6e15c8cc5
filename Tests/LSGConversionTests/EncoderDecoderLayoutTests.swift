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
}
