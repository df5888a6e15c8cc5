import Foundation
import SafeTensors
import Testing
import TestSupport

/// `encode --head` on BART and mBART task-head models, through the built binary.
@Suite struct Seq2SeqHeadCommandTests {
    /// The golden's inputs written to `url`, and its LSG overrides as command-line options.
    static func inputs(of golden: SafeTensorsFile, to url: URL) throws -> [String] {
        var writer = SafeTensorsWriter()
        for name in ["input_ids", "attention_mask"] {
            let info = try #require(golden.info(name))
            let bytes = try golden.withBytes(of: name) { Data($0) }
            try writer.add(name, dtype: info.dtype, shape: info.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        try writer.write(to: url)
        let overrides = try #require(golden.metadata?["overrides"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(overrides.utf8)) as? [String: Any])
        return object.keys.sorted().flatMap { key in ["--\(key.replacingOccurrences(of: "_", with: "-"))", "\(object[key]!)"] }
    }

    @Test("encode --head writes the reference's logits, or start and end logits", arguments: [
        ("bart-sequence-classification", ["logits"]), ("mbart-question-answering", ["start_logits", "end_logits"]),
    ])
    func headOutputs(_ name: String, _ outputs: [String]) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let golden = try SafeTensorsFile(data: try seq2seqHeadCase(name), name: name)
        let model = scratch.file("model")
        try materializeSeq2SeqHeadModel(metadata: golden.metadata, into: model)
        let input = scratch.file("in.safetensors")
        let options = try Self.inputs(of: golden, to: input)
        let output = scratch.file("out.safetensors")
        let head = try #require(golden.metadata?["head"])
        let result = try runTool(["encode", model.path, "--input", input.path, "--output", output.path, "--head", head] + options)
        #expect(result.status == 0, "\(result.standardError)")
        let produced = try SafeTensorsFile(contentsOf: output)
        for name in outputs {
            #expect(produced.info(name)?.shape == golden.info("expected." + name)?.shape)
            let difference = zip(try golden.floats("expected." + name), try produced.floats(name)).map { abs($0 - $1) }.max()!
            #expect(difference < 1e-4, "\(name): \(difference)")
        }
        #expect(produced.info("last_hidden_state") != nil)
    }

    @Test("encode refuses heads BART does not run, and --decoder-input beside a head")
    func refusals() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let golden = try SafeTensorsFile(data: try seq2seqHeadCase("bart-sequence-classification"), name: "golden")
        let model = scratch.file("model")
        try materializeSeq2SeqHeadModel(metadata: golden.metadata, into: model)
        let input = scratch.file("in.safetensors")
        _ = try Self.inputs(of: golden, to: input)
        let output = scratch.file("out.safetensors")
        let base = ["encode", model.path, "--input", input.path, "--output", output.path]
        let pooler = try runTool(base + ["--head", "pooler"])
        #expect(pooler.status != 0)
        #expect(pooler.standardError.contains("BART models run no pooler head; their heads: sequence-classification, question-answering"),
                "\(pooler.standardError)")
        let both = try runTool(base + ["--head", "sequence-classification", "--decoder-input", "2,5"])
        #expect(both.status != 0 && both.standardError.contains("give no --decoder-input or decoder_input_ids with it"),
                "\(both.standardError)")
    }
}
