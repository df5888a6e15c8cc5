import Checkpoint
import Foundation
import JSON
import LSGEncoder
import LSGErrors
import TestSupport
import Testing
import TextTasks
import Zstd

/// Our fill-mask and classification against what transformers' pipelines returned on the same
/// converted models (`golden/heads/pipelines.json.zst`, written by `tools/heads.py`).
@Suite struct PipelineGoldenTests {
    static let pipelines: JSONValue = {
        let url = goldenDirectory.appendingPathComponent("heads/pipelines.json.zst")
        return (try? JSONValue.parse(Zstd.decompressFile(at: url))) ?? .null
    }()

    /// A loadable copy of a golden model (heads/ models get their shared encoder shard).
    static func model(_ path: String, in scratch: ScratchDirectory) throws -> ModelDirectory {
        let source = goldenDirectory.appendingPathComponent(path)
        guard path.hasPrefix("heads/") else { return try ModelDirectory(url: source) }
        let name = source.lastPathComponent
        let family = String(name.prefix { $0 != "-" })
        let shard = goldenDirectory.appendingPathComponent("heads/models/\(family)-encoder/model-00001-of-00002.safetensors.zst")
        try materializeGoldenModel(source, sharedFiles: [shard], into: scratch.url)
        return try ModelDirectory(url: scratch.url)
    }

    static func cases(_ task: String) -> [JSONValue] { pipelines[task]?["cases"]?.arrayValue ?? [] }

    static func float(_ value: JSONValue?) -> Float { Float(value?.doubleValue ?? value?.intValue.map(Double.init) ?? .nan) }

    @Test("fill-mask: the pipeline's top-5 tokens, token_str and sequence, scores within 1e-4, on a short and a long text")
    func fillMask() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try #require(Self.pipelines["fill-mask"]?["model"]?.stringValue)
        let textModel = try TextModel(directory: try Self.model(path, in: scratch), heads: [.mlm])
        let cases = Self.cases("fill-mask")
        #expect(cases.count == 2)
        #expect(cases.contains { ($0["tokens"]?.intValue ?? 0) > 2 * 128 }, "a case longer than two blocks")
        for item in cases {
            let text = try #require(item["text"]?.stringValue)
            let ours = try FillMask.predict(text, model: textModel, topK: 5)
            let result = try #require(item["result"]?.arrayValue)
            // One mask: a list of proposals; several: a list per mask.
            let expected = result.first?.arrayValue != nil ? result.compactMap(\.arrayValue) : [result]
            #expect(ours.count == expected.count)
            for (predictions, proposals) in zip(ours, expected) {
                #expect(predictions.map(\.token) == proposals.compactMap { $0["token"]?.intValue })
                #expect(predictions.map(\.tokenString) == proposals.compactMap { $0["token_str"]?.stringValue })
                #expect(predictions.map(\.sequence) == proposals.compactMap { $0["sequence"]?.stringValue })
                for (prediction, proposal) in zip(predictions, proposals) {
                    #expect(abs(prediction.score - Self.float(proposal["score"])) < 1e-4)
                }
            }
        }
    }

    @Test("text-classification: every label, best first, scores within 1e-4")
    func textClassification() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try #require(Self.pipelines["text-classification"]?["model"]?.stringValue)
        let textModel = try TextModel(directory: try Self.model(path, in: scratch), heads: [.sequenceClassification])
        let cases = Self.cases("text-classification")
        #expect(cases.count >= 2)
        for item in cases {
            let ours = try TextClassification.classify(try #require(item["text"]?.stringValue), model: textModel)
            let expected = try #require(item["result"]?.arrayValue)
            #expect(ours.map(\.label) == expected.compactMap { $0["label"]?.stringValue })
            for (score, entry) in zip(ours, expected) {
                #expect(abs(score.score - Self.float(entry["score"])) < 1e-4)
            }
        }
    }

    @Test("token-classification (simple aggregation): the pipeline's entities, scores within 1e-4")
    func tokenClassification() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try #require(Self.pipelines["token-classification"]?["model"]?.stringValue)
        let textModel = try TextModel(directory: try Self.model(path, in: scratch), heads: [.tokenClassification])
        for item in Self.cases("token-classification") {
            guard case .groups(let groups) = try TokenClassification.classify(
                try #require(item["text"]?.stringValue), model: textModel, aggregation: .simple) else {
                Issue.record("no groups")
                continue
            }
            let expected = try #require(item["result"]?.arrayValue)
            #expect(groups.count == expected.count)
            #expect(groups.map(\.entityGroup) == expected.compactMap { $0["entity_group"]?.stringValue })
            #expect(groups.map(\.word) == expected.compactMap { $0["word"]?.stringValue })
            #expect(groups.map(\.start) == expected.compactMap { $0["start"]?.intValue })
            #expect(groups.map(\.end) == expected.compactMap { $0["end"]?.intValue })
            for (group, entry) in zip(groups, expected) {
                #expect(abs(group.score - Self.float(entry["score"])) < 1e-4)
            }
        }
    }

    @Test("fill-mask refuses a text without a mask, and a model without an MLM head")
    func fillMaskRefusals() throws {
        let model = try ModelDirectory(url: goldenDirectory.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        let textModel = try TextModel(directory: model, heads: [.mlm])
        let noMask = #expect(throws: LSGError.self) { try FillMask.predict("Paris est la capitale.", model: textModel) }
        #expect(noMask?.kind == .invalidInput)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let classifier = try Self.model("heads/models/camembert-sequence-classification", in: scratch)
        do {
            _ = try TextModel(directory: classifier, heads: [.mlm])
            Issue.record("a classifier loaded with an MLM head")
        } catch {
            #expect("\(error)".contains("no mlm head"), "\(error)")
            #expect((error as? LSGError)?.kind == .missingTensor, "\(error)")
        }
    }
}
