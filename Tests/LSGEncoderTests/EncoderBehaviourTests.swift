import Checkpoint
import Foundation
import Golden
import LSGEncoder
import LSGErrors
import Testing

@Suite("Encoder behaviour")
struct EncoderBehaviourTests {
    @Test("outputs do not depend on the thread count", arguments: [
        "camembert-defaults-b128-s128-f2-g1-max.safetensors.zst",
        "camembert-lsh-b16-s16-f4-g1-padded-batch.safetensors.zst",
        "bert-pooling-b16-s16-f4-g1-padded-batch.safetensors.zst",
        "camembert-original-padded-batch.safetensors.zst",
    ])
    func threadIndependence(_ file: String) throws {
        let golden = try loadCase(file)
        let model = try ModelDirectory(url: golden.modelURL)
        let single = try golden.run(model: model, threads: 1)
        for threads in [2, 3] {
            let parallel = try golden.run(model: model, threads: threads)
            #expect(parallel.keys.sorted() == single.keys.sorted())
            for (name, output) in single {
                #expect(parallel[name]?.values == output.values, "\(name) differs with \(threads) threads")
            }
        }
    }

    @Test("rejects inputs longer than the position table, ids outside the vocabulary, bad token types")
    func rejectsBadInputs() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("fixtures/camembert-tiny"))
        let encoder = try Encoder(model: model)
        let limit = encoder.configuration.maxInputLength
        #expect(limit == 512)
        #expect(throws: LSGError.self) {
            try encoder.encode(EncoderInput(inputIds: Array(repeating: 5, count: limit + 1), batchSize: 1, length: limit + 1))
        }
        _ = try encoder.encode(EncoderInput(inputIds: Array(repeating: 5, count: limit), batchSize: 1, length: limit))
        #expect(throws: LSGError.self) {
            try encoder.encode(EncoderInput(inputIds: [0, 5, Int64(encoder.configuration.vocabSize)], batchSize: 1, length: 3))
        }
        #expect(throws: LSGError.self) {
            try encoder.encode(EncoderInput(inputIds: [0, 5, 2], batchSize: 1, length: 3, tokenTypeIds: [0, 1, 0]))
        }
        #expect(throws: LSGError.self) { try EncoderInput(inputIds: [0, 5, 2], batchSize: 2, length: 2) }
        #expect(throws: LSGError.self) {
            try EncoderInput(inputIds: [0, 5, 2, 2], batchSize: 2, length: 2, attentionMask: [1, 1, 1])
        }
        #expect(throws: LSGError.self) {
            try EncoderInput(inputIds: [0, 5], batchSize: 1, length: 2, attentionMask: [1, 2])
        }
    }

    @Test("weight loading is strict: a missing or mis-shaped tensor is named in the error")
    func strictWeights() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("fixtures/roberta-tiny"))
        let configuration = try EncoderConfiguration(modelConfig: model.config, name: "config.json")
        let missing = "roberta.encoder.layer.1.intermediate.dense.bias"
        let withoutTensor = FilteredWeights(base: model.tensors, hidden: missing)
        #expect {
            try Encoder(configuration: configuration, weights: withoutTensor)
        } throws: { error in
            "\(error)".contains("missing tensor '\(missing)'")
        }
        var wrongShape = configuration
        wrongShape.intermediateSize += 1
        #expect {
            try Encoder(configuration: wrongShape, weights: model.tensors)
        } throws: { error in
            "\(error)".contains("encoder.layer.0.intermediate.dense.weight") && "\(error)".contains("expected")
        }
    }

    @Test("an untied MLM decoder is read from its own tensor")
    func untiedDecoder() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("fixtures/roberta-tiny"))
        var configuration = try EncoderConfiguration(modelConfig: model.config, name: "config.json")
        configuration.tiesWordEmbeddings = false
        #expect {
            try Encoder(configuration: configuration, weights: model.tensors, heads: [.mlm])
        } throws: { error in
            "\(error)".contains("missing tensor 'lm_head.decoder.weight'")
        }
    }

    @Test("LSG overrides are refused for a checkpoint without LSG attention")
    func overridesNeedLSG() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("fixtures/camembert-tiny"))
        #expect(throws: LSGError.self) { try Encoder(model: model, overrides: LSGOverrides([.blockSize: .integer(32)])) }
    }

    @Test("shapes the reference cannot run are errors, not guesses")
    func impossibleShapes() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        // block_size / sparsity_factor odd and > 1: the reference fails to build sparse windows.
        let odd = try Encoder(model: model, overrides: LSGOverrides([.blockSize: .integer(24), .sparsityFactor: .integer(8)]))
        #expect(throws: LSGError.self) {
            try odd.encode(EncoderInput(inputIds: Array(repeating: 5, count: 96), batchSize: 1, length: 96))
        }
        // Without adaptive padding the length must be a block multiple.
        let fixed = try Encoder(model: model, overrides: LSGOverrides([.adaptive: .bool(false), .blockSize: .integer(16)]))
        #expect(throws: LSGError.self) {
            try fixed.encode(EncoderInput(inputIds: Array(repeating: 5, count: 50), batchSize: 1, length: 50))
        }
    }

    @Test("seeded lsh projections are reproducible")
    func seededLSH() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        let encoder = try Encoder(model: model, overrides: LSGOverrides([.blockSize: .integer(16), .sparseBlockSize: .integer(16), .sparsityFactor: .integer(4), .sparsityType: .sparsityType(.lsh)]))
        let input = try EncoderInput(inputIds: (0..<100).map { Int64(5 + $0 % 200) }, batchSize: 1, length: 100)
        let first = try encoder.encode(input, options: EncodeOptions(lshProjections: .seeded(7)))
        let again = try encoder.encode(input, options: EncodeOptions(threads: 2, lshProjections: .seeded(7)))
        let other = try encoder.encode(input, options: EncodeOptions(lshProjections: .seeded(8)))
        #expect(first.lastHiddenState == again.lastHiddenState)
        #expect(first.lastHiddenState != other.lastHiddenState)
        #expect(throws: LSGError.self) {
            try encoder.encode(input, options: EncodeOptions(lshProjections: .recorded([])))
        }
    }

    @Test("norm selections replay: its own choices reproduce it, other valid choices change it, bad ones are refused")
    func normSelectionReplay() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        let encoder = try Encoder(model: model, overrides: LSGOverrides([.blockSize: .integer(16), .sparseBlockSize: .integer(16), .sparsityFactor: .integer(4), .sparsityType: .sparsityType(.norm)]))
        let ids = (0..<200).map { Int64(5 + ($0 * 37) % 200) }
        let input = try EncoderInput(inputIds: ids, batchSize: 2, length: 100)
        let computed = try encoder.encode(input, options: EncodeOptions(threads: 2))
        let layers = encoder.configuration.numHiddenLayers
        let heads = encoder.configuration.numAttentionHeads
        // 100 tokens pad to 112: 7 chunks of 16, 4 kept in each, per head and row.
        #expect(computed.normSelections.count == layers)
        #expect(computed.normSelections.allSatisfy { $0.count == 2 * heads * 28 })

        let replayed = try encoder.encode(input, options: EncodeOptions(normSelections: RecordedNormSelections(layers: computed.normSelections)))
        #expect(replayed.lastHiddenState == computed.lastHiddenState)
        #expect(replayed.normSelections == computed.normSelections)

        // The smallest index of the first chunk is never kept (4 of 16): swap it in.
        var changed = computed.normSelections
        let kept = Set(changed[0][0..<4])
        let other = try #require((0..<16).map(Int64.init).first { !kept.contains($0) })
        changed[0][0] = other
        let moved = try encoder.encode(input, options: EncodeOptions(normSelections: RecordedNormSelections(layers: changed)))
        #expect(moved.lastHiddenState != computed.lastHiddenState)

        var outside = computed.normSelections
        outside[1][5] = 16 // position 5 belongs to the second chunk of row 0, head 0: 16..<32 is fine
        outside[1][0] = 16 // position 0 belongs to the first chunk: 16 is outside 0..<16
        #expect(throws: LSGError.self) {
            try encoder.encode(input, options: EncodeOptions(normSelections: RecordedNormSelections(layers: outside)))
        }
        #expect(throws: LSGError.self) {
            try encoder.encode(input, options: EncodeOptions(normSelections: RecordedNormSelections(layers: Array(computed.normSelections.dropLast()))))
        }
        let short = try EncoderInput(inputIds: Array(ids.prefix(100)), batchSize: 1, length: 100)
        #expect(throws: LSGError.self) {
            try encoder.encode(short, options: EncodeOptions(normSelections: RecordedNormSelections(layers: computed.normSelections)))
        }
        let stride = try Encoder(model: model, overrides: LSGOverrides([.blockSize: .integer(16), .sparseBlockSize: .integer(16), .sparsityFactor: .integer(4), .sparsityType: .sparsityType(.stride)]))
        #expect(throws: LSGError.self) {
            try stride.encode(input, options: EncodeOptions(normSelections: RecordedNormSelections(layers: computed.normSelections)))
        }
    }
}

/// A weight source that hides one tensor.
struct FilteredWeights: WeightSource {
    let base: WeightSource
    let hidden: String
    var sourceName: String { base.sourceName }
    func shape(of name: String) -> [Int]? { name == hidden ? nil : base.shape(of: name) }
    func floats(_ name: String) throws -> [Float] { try base.floats(name) }
}
