import Foundation
import SafeTensors
import Testing
import TestSupport
import Zstd

/// `fill-mask`, `classify` and `encode --text` through the built binary.
@Suite struct TextCommandTests {
    static let mlmModel = goldenDirectory.appendingPathComponent("models/lsg-camembert-tiny-1024").path

    /// A loadable copy of a CamemBERT head model of golden/heads.
    static func headModel(_ name: String, in scratch: ScratchDirectory) throws -> String {
        let model = scratch.file(name)
        try materializeGoldenModel(
            goldenDirectory.appendingPathComponent("heads/models/camembert-\(name)"),
            sharedFiles: [goldenDirectory.appendingPathComponent("heads/models/camembert-encoder/model-00001-of-00002.safetensors.zst")],
            into: model)
        return model.path
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    @Test("fill-mask --json prints the pipeline's list; the plain view shows scores and sequences")
    func fillMask() throws {
        let result = try runTool(["fill-mask", Self.mlmModel, "Paris est la <mask> de la France.", "--json", "--top-k", "3"])
        #expect(result.status == 0, "\(result.standardError)")
        let list = try #require(try Self.json(result.standardOutput) as? [[String: Any]])
        #expect(list.count == 3)
        #expect(list.allSatisfy { Set($0.keys) == ["score", "token", "token_str", "sequence"] })
        let plain = try runTool(["fill-mask", Self.mlmModel, "Paris est la <mask> de la France."])
        #expect(plain.status == 0)
        #expect(plain.standardOutput.split(separator: "\n").count == 5)
        let two = try runTool(["fill-mask", Self.mlmModel, "La <mask> est belle et le <mask> aussi.", "--json"])
        #expect((try Self.json(two.standardOutput) as? [[[String: Any]]])?.count == 2)
    }

    @Test("fill-mask refuses a text without a mask and a model without an MLM head, in one line")
    func fillMaskRefusals() throws {
        let noMask = try runTool(["fill-mask", Self.mlmModel, "Paris est la capitale de la France."])
        #expect(noMask.status == 1)
        #expect(noMask.errorLines.count == 1 && noMask.standardError.contains("no mask token <mask>"), "\(noMask.standardError)")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let classifier = try Self.headModel("sequence-classification", in: scratch)
        let noHead = try runTool(["fill-mask", classifier, "Paris est la <mask>."])
        #expect(noHead.status == 1)
        #expect(noHead.errorLines.count == 1 && noHead.standardError.contains("no mlm head"), "\(noHead.standardError)")
    }

    @Test("classify: labels best first for a classifier, entities for a token classifier; --json per text")
    func classify() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let classifier = try Self.headModel("sequence-classification", in: scratch)
        let result = try runTool(["classify", classifier, "J'ai adoré ce film.", "Un film sans intérêt.", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try Self.json(String(lines[0])) as? [[String: Any]])
        #expect(Set(first.compactMap { $0["label"] as? String }) == ["NEGATIVE", "NEUTRAL", "POSITIVE"])
        let scores = first.compactMap { $0["score"] as? Double }
        #expect(scores == scores.sorted(by: >))
        #expect(abs(scores.reduce(0, +) - 1) < 1e-5)

        let ner = try Self.headModel("token-classification", in: scratch)
        let entities = try runTool(["classify", ner, "Emmanuel Macron a rencontré Angela Merkel à Berlin.", "--json"])
        #expect(entities.status == 0, "\(entities.standardError)")
        let groups = try #require(try Self.json(entities.standardOutput) as? [[String: Any]])
        #expect(groups.allSatisfy { Set($0.keys) == ["entity_group", "score", "word", "start", "end"] })
        #expect(!groups.contains { ($0["entity_group"] as? String) == "O" })
        let tokens = try runTool(["classify", ner, "Angela Merkel à Berlin.", "--aggregation", "none", "--json"])
        let labels = try #require(try Self.json(tokens.standardOutput) as? [[String: Any]])
        #expect(labels.allSatisfy { Set($0.keys) == ["entity", "score", "index", "word", "start", "end"] })
    }

    @Test("classify refuses a model without a classification head, naming its config")
    func classifyRefusesOtherHeads() throws {
        let result = try runTool(["classify", Self.mlmModel, "Bonjour."])
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.contains("config.json") && result.standardError.contains("LSGCamembertForMaskedLM"), "\(result.standardError)")
    }

    @Test("--text-file: one text per line; invalid UTF-8 is refused naming the file and the line")
    func textFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let classifier = try Self.headModel("sequence-classification", in: scratch)
        let good = scratch.file("texts.txt")
        try Data("Premier texte.\r\nDeuxième texte.\n".utf8).write(to: good)
        let result = try runTool(["classify", classifier, "--text-file", good.path, "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.split(separator: "\n").count == 2)
        let bad = scratch.file("bad.txt")
        try Data([0x6F, 0x6B, 0x0A, 0x62, 0xFF, 0x61, 0x0A]).write(to: bad)
        let refused = try runTool(["classify", classifier, "--text-file", bad.path])
        #expect(refused.status != 0)
        #expect(refused.errorLines.count == 1)
        #expect(refused.standardError.contains("bad.txt: line 2 is not valid UTF-8"), "\(refused.standardError)")
    }

    @Test("a text longer than the model takes is refused unless --max-length truncates it")
    func tooLong() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let classifier = try Self.headModel("sequence-classification", in: scratch)
        let long = String(repeating: "Le chat dort sur le canapé. ", count: 40)
        let refused = try runTool(["classify", classifier, long])
        #expect(refused.status == 1)
        #expect(refused.errorLines.count == 1 && refused.standardError.contains("--max-length"), "\(refused.standardError)")
        let truncated = try runTool(["classify", classifier, long, "--max-length", "200"])
        #expect(truncated.status == 0, "\(truncated.standardError)")
    }

    @Test("encode --text: one padded row per text, the same states as the ids the tokenizer gives")
    func encodeText() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("out.safetensors")
        let result = try runTool(["encode", Self.mlmModel, "--text", "Bonjour le monde.", "--text", "Un texte un peu plus long que le premier.",
                                  "--output", output.path])
        #expect(result.status == 0, "\(result.standardError)")
        let file = try SafeTensorsFile(contentsOf: output)
        let shape = try #require(file.info("last_hidden_state")?.shape)
        #expect(shape.count == 3 && shape[0] == 2 && shape[2] == 32)
        let both = try runTool(["encode", Self.mlmModel, "--text", "x", "--input", "y", "--output", output.path])
        #expect(both.status != 0)
    }
}
