import Checkpoint
import Foundation
import JSON
import LSGConversion
import SafeTensors
import Testing

/// Sources shaped as older tools wrote them convert to the same weights as the modern layout,
/// because they load the way transformers loads them (`StateDictRule`).
struct RealWorldLayoutTests {
    /// Rewrites the fixture's weights with each tensor renamed (nil drops it), keeping values.
    func rewriteWeights(_ directory: URL, as dtype: DType = .f32, rename: (String) -> String? = { $0 }) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let source = try SafeTensorsFile(contentsOf: url)
        var writer = SafeTensorsWriter()
        for tensor in source.tensors {
            guard let name = rename(tensor.name) else { continue }
            try writer.add(name, floats: try source.floats(tensor.name), shape: tensor.shape, as: dtype)
        }
        try FileManager.default.removeItem(at: url)
        try writer.write(to: url)
    }

    func convertedWeights(_ source: URL, into output: URL, architecture: String? = nil) throws -> [String: String] {
        var conversion = try ConversionFixtures.conversion(source: source, output: output) { $0.architecture = architecture }
        conversion.validate = false
        try conversion.run()
        let store = try TensorStore(directory: output)
        return Dictionary(uniqueKeysWithValues: zip(store.names, try TensorHashing.sha256Hex(ofEach: store.names, in: store)))
    }

    @Test func tfEraLayerNormNamesConvertLikeModernOnes() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let modern = try ConversionFixtures.copyFixture("bert-tiny", into: scratch)
        let legacy = scratch.appendingPathComponent("bert-tiny-legacy")
        try FileManager.default.copyItem(at: modern, to: legacy)
        try rewriteWeights(legacy) { (name: String) -> String? in
            guard name.contains("LayerNorm") else { return name }
            return name.replacingOccurrences(of: ".weight", with: ".gamma").replacingOccurrences(of: ".bias", with: ".beta")
        }
        #expect(try TensorStore(directory: legacy).names.contains { $0.hasSuffix("LayerNorm.weight") })
        let expected = try convertedWeights(modern, into: scratch.appendingPathComponent("out-modern"))
        let ours = try convertedWeights(legacy, into: scratch.appendingPathComponent("out-legacy"))
        #expect(ours == expected)
        let manifest = try JSONValue.load(contentsOf: scratch.appendingPathComponent("out-legacy/lsg-manifest.json"))
        #expect(manifest.compactString().contains("stored as bert.embeddings.LayerNorm.gamma in the checkpoint"))
    }

    /// A base-model checkpoint (no `bert.` prefix) converted to a task class, and a task
    /// checkpoint converted to the base class, give the encoder the same weights.
    @Test func theBaseModelPrefixIsAddedOrStripped() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let prefixed = try ConversionFixtures.copyFixture("bert-tiny", into: scratch)
        let bare = scratch.appendingPathComponent("bert-tiny-base")
        try FileManager.default.copyItem(at: prefixed, to: bare)
        try rewriteWeights(bare) { $0.hasPrefix("bert.") ? String($0.dropFirst(5)) : nil }

        let fromPrefixed = try convertedWeights(prefixed, into: scratch.appendingPathComponent("a"), architecture: "BertModel")
        let fromBare = try convertedWeights(bare, into: scratch.appendingPathComponent("b"), architecture: "BertModel")
        #expect(fromBare == fromPrefixed)
        #expect(fromPrefixed["embeddings.word_embeddings.weight"] != nil)

        let task = try convertedWeights(bare, into: scratch.appendingPathComponent("c"), architecture: "BertForPreTraining")
        let original = try convertedWeights(prefixed, into: scratch.appendingPathComponent("d"), architecture: "BertForPreTraining")
        for (name, sha256) in original where name.hasPrefix("bert.") && !name.hasPrefix("bert.pooler.") {
            #expect(task[name] == sha256, "\(name)")
        }
    }

    /// transformers builds the model in float32 whatever the checkpoint's dtype, so the reference
    /// writes F32 tensors and `"torch_dtype": "float32"` for a BF16 or F16 source.
    @Test(arguments: [DType.bf16, .f16])
    func halfPrecisionSourcesConvertToFloat32(_ dtype: DType) throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("bert-tiny", into: scratch)
        try rewriteWeights(source, as: dtype)
        let output = scratch.appendingPathComponent("out")
        _ = try convertedWeights(source, into: output)
        let store = try TensorStore(directory: output)
        #expect(store.tensors.allSatisfy { $0.dtype == .f32 })
        let name = "bert.encoder.layer.0.output.dense.weight"
        #expect(try store.floats(name) == (try TensorStore(directory: source).floats(name)))
        #expect(try ModelConfig.load(from: output.appendingPathComponent("config.json"))["torch_dtype"] == "float32")
    }

    @Test func aHeadBesideABareEncoderIsRefusedAsTransformersRefusesIt() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("bert-tiny", into: scratch)
        try rewriteWeights(source) { $0.hasPrefix("bert.") ? String($0.dropFirst(5)) : $0 }
        let conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out"))
        let error = #expect(throws: (any Error).self) { try conversion.run() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("transformers refuses such a checkpoint too"))
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out").path))
    }
}
