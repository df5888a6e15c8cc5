import Foundation
import SafeTensors
import Testing
import TestSupport
import Zstd

/// `encode --head` and `validate --record/--golden` with the task heads, on the reference's head goldens.
@Suite struct TaskHeadCommandTests {
    /// The golden file of a head case and a loadable copy of its model in `scratch`.
    static func headCase(_ name: String, in scratch: ScratchDirectory, as directory: String = "model") throws -> (golden: SafeTensorsFile, model: URL) {
        let url = goldenDirectory.appendingPathComponent("heads/\(name).safetensors.zst")
        let golden = try SafeTensorsFile(data: try Zstd.decompressFile(at: url), name: url.path)
        let shared = (golden.metadata?["shared_files"] ?? "[]")
            .split(whereSeparator: { "[]\", ".contains($0) }).map { goldenDirectory.appendingPathComponent(String($0)) }
        let model = scratch.file(directory)
        try materializeGoldenModel(
            goldenDirectory.appendingPathComponent("heads/models/\(name)"), sharedFiles: shared, into: model)
        return (golden, model)
    }

    /// The golden's inputs, and its LSG overrides as command-line options.
    static func inputs(of golden: SafeTensorsFile, to url: URL) throws -> [String] {
        var writer = SafeTensorsWriter()
        for name in ["input_ids", "attention_mask", "token_type_ids"] {
            guard let info = golden.info(name) else { continue }
            let bytes = try golden.withBytes(of: name) { Data($0) }
            try writer.add(name, dtype: info.dtype, shape: info.shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        try writer.write(to: url)
        let overrides = try #require(golden.metadata?["overrides"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(overrides.utf8)) as? [String: Any])
        return object.keys.sorted().map { key in ["--\(key.replacingOccurrences(of: "_", with: "-"))", "\(object[key]!)"] }.flatMap { $0 }
    }

    @Test("encode --head multiple-choice reads [questions, choices, length] and writes [questions, choices] logits")
    func multipleChoice() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (golden, model) = try Self.headCase("roberta-multiple-choice", in: scratch)
        let options = try Self.inputs(of: golden, to: scratch.file("in.safetensors"))
        #expect(!options.contains("lsh"), "the roberta case replays no LSH draws")
        let result = try runTool(["encode", model.path, "--input", scratch.file("in.safetensors").path,
                                  "--output", scratch.file("out.safetensors").path, "--head", "multiple-choice"] + options)
        #expect(result.status == 0, "\(result.standardError)")
        let produced = try SafeTensorsFile(contentsOf: scratch.file("out.safetensors"))
        #expect(produced.info("logits")?.shape == golden.info("expected.logits")?.shape)
        let difference = zip(try produced.floats("logits"), try golden.floats("expected.logits")).map { abs($0 - $1) }.max()!
        #expect(difference < 1e-4)
    }

    @Test("validate --record --head question-answering, then --golden passes on the model and fails on another")
    func recordAndCheck() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (golden, model) = try Self.headCase("bert-question-answering", in: scratch)
        let options = try Self.inputs(of: golden, to: scratch.file("in.safetensors"))
        let recorded = scratch.file("qa.safetensors.zst")
        let record = try runTool(["validate", model.path, "--record", recorded.path, "--input",
                                  scratch.file("in.safetensors").path, "--head", "question-answering"] + options)
        #expect(record.status == 0, "\(record.standardError)")
        let file = try SafeTensorsFile(data: try Zstd.decompressFile(at: recorded), name: recorded.path)
        #expect(file.metadata?["head"] == "question-answering")
        #expect(file.info("expected.start_logits") != nil && file.info("expected.end_logits") != nil)
        let check = try runTool(["validate", model.path, "--golden", recorded.path])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")

        let (_, other) = try Self.headCase("bert-token-classification", in: scratch, as: "other")
        let mismatch = try runTool(["validate", other.path, "--golden", recorded.path])
        #expect(mismatch.status == 1)
        #expect(mismatch.standardOutput.contains("qa_outputs"), "\(mismatch.standardOutput)")
    }

    @Test("an unknown head is refused with the list of heads")
    func unknownHead() throws {
        let result = try runTool(["encode", "x", "--input", "a", "--output", "b", "--head", "ner"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("sequence-classification"), "\(result.standardError)")
    }
}
