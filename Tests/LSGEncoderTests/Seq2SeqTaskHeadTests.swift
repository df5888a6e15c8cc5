import Checkpoint
import Foundation
import JSON
import LSGEncoder
import LSGErrors
import SafeTensors
import TestSupport
import Testing

/// BART's and mBART's task heads on the decoder (`Seq2SeqTaskHead`) against the reference's
/// goldens (golden/seq2seq/heads/, written by tools/seq2seq_heads.py).
@Suite("Encoder-decoder task heads against the reference")
struct Seq2SeqTaskHeadTests {
    static let cases = ["bart-sequence-classification", "bart-question-answering", "mbart-sequence-classification",
                        "mbart-question-answering"]

    /// A golden case: its file, a loadable copy of its model in `scratch`, the head and the overrides.
    static func load(_ name: String, in scratch: ScratchDirectory) throws -> (golden: SafeTensorsFile, model: ModelDirectory,
                                                                             head: EncoderHead, overrides: LSGOverrides) {
        let golden = try SafeTensorsFile(data: try seq2seqHeadCase(name), name: name)
        try materializeSeq2SeqHeadModel(metadata: golden.metadata, into: scratch.url)
        let head = try #require(golden.metadata?["head"].flatMap(EncoderHead.init(rawValue:)))
        let overrides = try LSGOverrides(json: try #require(try JSONValue.parse(golden.metadata?["overrides"] ?? "").objectValue))
        return (golden, try ModelDirectory(url: scratch.url), head, overrides)
    }

    @Test("logits match the reference within 1e-4", arguments: cases)
    func matchesReference(_ name: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (golden, model, head, overrides) = try Self.load(name, in: scratch)
        let input = try EncoderInput(file: golden)
        let encoded = try Encoder(model: model, overrides: overrides).encode(input)
        let outputs = try Seq2SeqTaskHead(model: model, head: head, overrides: overrides).outputs(input, encoderOutput: encoded)
        let expectedNames = head == .questionAnswering ? ["start_logits", "end_logits"] : ["logits"]
        #expect(outputs.map(\.name) == expectedNames)
        for output in outputs {
            let expected = try golden.floats("expected." + output.name)
            #expect(output.shape == golden.info("expected." + output.name)?.shape)
            let difference = zip(expected, output.values).map { abs($0 - $1) }.max() ?? .infinity
            print("\(name) \(output.name): max |difference| \(difference)")
            #expect(expected.count == output.values.count && difference < 1e-4, "\(output.name): \(difference)")
        }
    }

    @Test("the classifier refuses rows with different numbers of eos tokens, and rows without one")
    func refusesUnequalEOSCounts() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let (_, model, _, _) = try Self.load("bart-sequence-classification", in: scratch)
        let classifier = try Seq2SeqTaskHead(model: model, head: .sequenceClassification)
        let encoder = try Encoder(model: model)
        // eos is 2: two in the first row, one in the second.
        let unequal = try EncoderInput(inputIds: [0, 7, 2, 8, 2, 0, 7, 8, 9, 2], batchSize: 2, length: 5)
        let error = #expect(throws: LSGError.self) {
            _ = try classifier.outputs(unequal, encoderOutput: try encoder.encode(unequal))
        }
        #expect(error?.description == "input_ids rows hold different numbers of eos tokens (id 2): 2, 1; the classifier reads each row's last one, and transformers refuses such a batch")
        let none = try EncoderInput(inputIds: [0, 7, 8], batchSize: 1, length: 3)
        let missing = #expect(throws: LSGError.self) { _ = try classifier.outputs(none, encoderOutput: try encoder.encode(none)) }
        #expect(missing?.description.contains("holds no eos token (id 2)") == true)
    }

    @Test("the decoder reads input_ids shifted right: BART behind decoder_start_token_id, mBART behind the last non-pad token")
    func shiftsInputIdsRight() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let input = try EncoderInput(inputIds: [0, 7, 8, 2, 1, 0, 9, 2, 1, 1], batchSize: 2, length: 5)
        let bart = try Self.load("bart-question-answering", in: scratch).model
        #expect(try Seq2SeqTaskHead(model: bart, head: .questionAnswering).decoderInput(for: input).ids
                == [2, 0, 7, 8, 2, 2, 0, 9, 2, 1])
        let mbartScratch = try ScratchDirectory()
        defer { mbartScratch.remove() }
        let mbart = try Self.load("mbart-question-answering", in: mbartScratch).model
        #expect(try Seq2SeqTaskHead(model: mbart, head: .questionAnswering).decoderInput(for: input).ids
                == [2, 0, 7, 8, 2, 2, 0, 9, 2, 1])
        let shifted = try EncoderInput(inputIds: [0, 7, 8, 5, 1], batchSize: 1, length: 5)
        #expect(try Seq2SeqTaskHead(model: mbart, head: .questionAnswering).decoderInput(for: shifted).ids == [5, 0, 7, 8, 5])
    }

    @Test("other heads, and Pegasus's, are refused by name")
    func refusesOtherHeads() throws {
        let bart = try ModelDirectory(url: goldenDirectory.appendingPathComponent("models/lsg-bart-tiny-512"))
        let pooler = #expect(throws: LSGError.self) { try Seq2SeqTaskHead(model: bart, head: .pooler) }
        #expect(pooler?.description.hasSuffix("BART models run no pooler head; their heads: sequence-classification, question-answering") == true,
                "\(String(describing: pooler))")
        let pegasus = try ModelDirectory(url: goldenDirectory.appendingPathComponent("models/lsg-pegasus-tiny-512"))
        let none = #expect(throws: LSGError.self) { try Seq2SeqTaskHead(model: pegasus, head: .sequenceClassification) }
        #expect(none?.description.hasSuffix("models run no sequence-classification head; they have no task head") == true,
                "\(String(describing: none))")
        // A generation checkpoint has no classification head: the missing tensor is named.
        let missing = #expect(throws: LSGError.self) { try Seq2SeqTaskHead(model: bart, head: .sequenceClassification) }
        #expect(missing?.description.contains("missing tensor 'classification_head.dense.weight'") == true)
    }
}
