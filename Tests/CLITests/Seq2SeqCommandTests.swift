import Foundation
import SafeTensors
import Testing
import TestSupport
import Zstd

/// `encode` and `validate` on encoder-decoder models, through the built binary.
@Suite struct Seq2SeqCommandTests {
    static let bartModel = goldenDirectory.appendingPathComponent("models/lsg-bart-tiny-512").path
    static let bartCase = goldenDirectory.appendingPathComponent("seq2seq/bart-stride-b16-s16-f4-g1-single.safetensors.zst")

    @Test func encodeWritesEncoderStatesAndDecoderLogits() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let golden = try SafeTensorsFile(data: try Zstd.decompressFile(at: Self.bartCase), name: "golden")
        let input = scratch.file("in.safetensors")
        var writer = SafeTensorsWriter()
        for name in ["input_ids", "attention_mask"] {
            let info = try #require(golden.info(name))
            let bytes = try golden.withBytes(of: name) { Data($0) }
            try writer.add(name, dtype: info.dtype, shape: info.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        try writer.write(to: input)
        let decoderIds = try golden.int64s("decoder_input_ids").map(String.init).joined(separator: ",")
        let output = scratch.file("out.safetensors")
        let result = try runTool(["encode", Self.bartModel, "--input", input.path, "--output", output.path,
                                  "--decoder-input", decoderIds, "--block-size", "16", "--sparse-block-size", "16",
                                  "--sparsity-factor", "4", "--sparsity-type", "stride"])
        #expect(result.status == 0, "\(result.standardError)")
        let produced = try SafeTensorsFile(contentsOf: output)
        #expect(produced.info("last_hidden_state")?.shape == golden.info("expected.encoder_last_hidden_state")?.shape)
        #expect(produced.info("logits")?.shape == golden.info("expected.logits")?.shape)
        for (name, expectedName) in [("last_hidden_state", "expected.encoder_last_hidden_state"), ("logits", "expected.logits")] {
            let difference = zip(try golden.floats(expectedName), try produced.floats(name)).map { abs($0 - $1) }.max()!
            #expect(difference < 1e-4, "\(name): \(difference)")
        }
        let bad = try runTool(["encode", Self.bartModel, "--input", input.path, "--output", output.path, "--decoder-input", "2,x"])
        #expect(bad.status != 0 && bad.standardError.contains("--decoder-input takes comma-separated token ids"))
    }

    @Test func generatePrintsTheReferenceIds() throws {
        let pegasus = goldenDirectory.appendingPathComponent("models/lsg-pegasus-tiny-512").path
        let result = try runTool(["generate", pegasus, "--input-ids", "5,6,7,8,1", "--max-new-tokens", "4"])
        #expect(result.status == 0, "\(result.standardError)")
        // Starts with Pegasus's decoder start token (0) and ends with the forced eos (1).
        let ids = result.standardOutput.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(ids.count == 5 && ids.first == 0 && ids.last == 1)
        let roberta = goldenDirectory.appendingPathComponent("models/lsg-roberta-tiny-512").path
        let refused = try runTool(["generate", roberta, "--input-ids", "0,5,2", "--max-new-tokens", "2"])
        #expect(refused.status != 0 && refused.standardError.contains("roberta models have no decoder"))
    }

    @Test func generateFromTextPrintsWhatTheReferenceDecodes() throws {
        // transformers: tokenizer(texts, padding=True) -> LSGBartForConditionalGeneration.generate(...,
        // max_new_tokens=6) -> decode(skip_special_tokens=True) gives "uuuuu" for both rows.
        let result = try runTool(["generate", Self.bartModel, "--text", "The quick brown fox jumps over the lazy dog.",
                                  "--text", "Paris is a city.", "--max-new-tokens", "6"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "uuuuu\nuuuuu\n")
        let both = try runTool(["generate", Self.bartModel, "--text", "a", "--input-ids", "0,2", "--max-new-tokens", "1"])
        #expect(both.status != 0 && both.standardError.contains("give one of --input, --input-ids, or --text / --text-file"))
    }

    @Test func validateComparesDecoderLogits() throws {
        let result = try runTool(["validate", Self.bartModel, "--golden", Self.bartCase.path])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.contains("logits: shape (1, 3, 361) matches"))
        #expect(result.standardOutput.contains("encoder_last_hidden_state: shape (1, 56, 8) matches"))
    }

    @Test func validateAgainstTheSourceComparesTheDecoders() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let model = scratch.file("lsg-bart")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Self.bartModel), to: model)
        let source = goldenDirectory.appendingPathComponent("fixtures/bart-tiny").path
        let good = try runTool(["validate", model.path, "--against", source])
        #expect(good.status == 0, "\(good.standardOutput)\(good.standardError)")
        #expect(good.standardOutput.contains("next-token agreement 100.00 %"), "\(good.standardOutput)")

        // The decoder's position table shifted by two rows: the encoder states are untouched, the
        // decoder's predictions are not, and only the decoder comparison sees it.
        let weights = model.appendingPathComponent("model.safetensors")
        let original = try SafeTensorsFile(data: Data(contentsOf: weights), name: weights.path)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for info in original.tensors {
            let stored = try original.withBytes(of: info.name) { Data($0) }
            let row = stored.count / max(info.shape.first ?? 1, 1)
            let bytes = info.name == "model.decoder.embed_positions.weight"
                ? stored.suffix(2 * row) + stored.prefix(stored.count - 2 * row) : stored
            try writer.add(info.name, dtype: info.dtype, shape: info.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        try writer.write(to: weights)
        let damaged = try runTool(["validate", model.path, "--against", source])
        #expect(damaged.status == 1)
        #expect(damaged.standardOutput.contains("cosine similarity mean 1.000000"), "\(damaged.standardOutput)")
        #expect(damaged.standardOutput.contains("the decoders' next-token agreement"), "\(damaged.standardOutput)")
        let lenient = try runTool(["validate", model.path, "--against", source, "--min-decoder-top1", "0"])
        #expect(lenient.status == 0, "\(lenient.standardOutput)")
    }
}
