import Checkpoint
import Foundation
import Golden
import JSON
import LSGEncoder
import LSGErrors
import SafeTensors
import TestSupport
import Testing

/// Every task head golden (`golden/heads/`, written by `tools/heads.py`), by file name.
let taskHeadCaseFiles: [String] = {
    let directory = goldenRoot.appendingPathComponent("heads")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(GoldenCase.suffix) }.sorted()
}()

/// The files the case's model shares with others (`shared_files` metadata: paths under golden/).
func sharedFiles(of golden: GoldenCase) throws -> [URL] {
    let paths = try JSONValue.parse(golden.metadata["shared_files"] ?? "[]").arrayValue ?? []
    return paths.compactMap(\.stringValue).map { golden.goldenRoot.appendingPathComponent($0) }
}

@Suite("Task heads against the reference's golden outputs")
struct TaskHeadGoldenTests {
    @Test("every encoder family has every task head")
    func everyHeadOfEveryFamily() throws {
        // The encoder-decoder families' heads read the decoder (Seq2SeqTaskHeadTests); the encoder refuses them.
        for family in ModelFamily.allCases where family.facts.encoderDecoder == nil {
            for head in EncoderHead.allCases where head.taskHead != nil {
                #expect(taskHeadCaseFiles.contains("\(family.rawValue)-\(head.rawValue)\(GoldenCase.suffix)"),
                        "no golden for \(family.rawValue) \(head.rawValue)")
            }
        }
    }

    @Test("logits and encoder states match the reference within 1e-4", arguments: taskHeadCaseFiles)
    func matchesReference(_ file: String) throws {
        let golden = try GoldenCase(contentsOf: goldenRoot.appendingPathComponent("heads").appendingPathComponent(file))
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try materializeGoldenModel(golden.modelURL, sharedFiles: try sharedFiles(of: golden), into: scratch.url)
        let report = golden.validate(model: try ModelDirectory(url: scratch.url), threads: 2)
        #expect(report.errors.isEmpty, "\(report.text)")
        #expect(report.comparisons.count == golden.expected.count)
        #expect(golden.expected.keys.contains { $0.hasSuffix("logits") })
        #expect(report.passed, "\(report.text)")
    }

    @Test("a model without the head is refused with the tensor it lacks")
    func missingHead() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        #expect(throws: LSGError.self) { try Encoder(model: model, heads: [.sequenceClassification]) }
        let error = #expect(throws: LSGError.self) { try Encoder(model: model, heads: [.questionAnswering]) }
        #expect(error?.kind == .missingTensor)
        #expect(error?.description.contains("missing tensor 'qa_outputs.weight'") == true, "\(String(describing: error))")
    }

    @Test("a task head does not run beside the MLM head or another task head")
    func oneTaskHead() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        let error = #expect(throws: LSGError.self) { try Encoder(model: model, heads: [.mlm, .tokenClassification]) }
        #expect(error?.kind == .invalidOption)
        #expect(throws: LSGError.self) { try Encoder(model: model, heads: [.sequenceClassification, .tokenClassification]) }
    }
}
