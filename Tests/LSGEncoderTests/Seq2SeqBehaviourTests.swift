import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors
import Testing

/// Encoder-decoder specifics besides the golden comparisons (which cover the outputs).
@Suite("Encoder and decoder: BART, mBART, BARThez and Pegasus")
struct Seq2SeqBehaviourTests {
    static func model(_ family: String) throws -> ModelDirectory {
        try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-\(family)-tiny-512"), readingTokenizer: false)
    }

    @Test func encoderHeadsAndDecoderlessFamiliesAreRefused() throws {
        let bart = try Self.model("bart")
        let heads = #expect(throws: LSGError.self) { try Encoder(model: bart, heads: [.pooler]) }
        #expect(heads?.description.hasSuffix("BART heads read the decoder; the encoder runs no pooler head") == true)
        let roberta = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-roberta-tiny-512"))
        let decoder = #expect(throws: LSGError.self) { try Seq2SeqDecoder(model: roberta) }
        #expect(decoder?.description.hasSuffix("roberta models have no decoder") == true)
    }

    @Test func inputsBeyondThePositionTableAreRefused() throws {
        let encoder = try Encoder(model: try Self.model("mbart"))
        #expect(encoder.configuration.maxInputLength == 512)
        let long = #expect(throws: LSGError.self) {
            try encoder.encode(EncoderInput(inputIds: Array(repeating: 5, count: 513), batchSize: 1, length: 513))
        }
        #expect(long?.description == "input length 513 exceeds the model's 512 positions")
        // Adaptive padding to a multiple of 96 would embed positions the table does not have.
        let padded = try Encoder(model: try Self.model("mbart"),
                                 overrides: LSGOverrides([.blockSize: .integer(96), .sparseBlockSize: .integer(96)]))
        let error = #expect(throws: LSGError.self) {
            try padded.encode(EncoderInput(inputIds: Array(repeating: 5, count: 500), batchSize: 1, length: 500))
        }
        #expect(error?.description == "input length 500 pads to 576 tokens (a multiple of block_size), beyond the model's 512 positions")
    }

    @Test func globalTokensReachTheDecoderOnlyWhenPassed() throws {
        let model = try Self.model("pegasus")
        let input = try EncoderInput(inputIds: [5, 6, 7, 8, 1], batchSize: 1, length: 5)
        let passing = try Encoder(model: model, overrides: LSGOverrides([.numGlobalTokens: .integer(3)])).encode(input)
        #expect(passing.leadingGlobalTokens == 3 && passing.lastHiddenState.count == 8 * 8)
        let kept = try Encoder(model: model, overrides: LSGOverrides([.numGlobalTokens: .integer(3),
                                                                     .passGlobalTokensToDecoder: .bool(false)])).encode(input)
        #expect(kept.leadingGlobalTokens == 0 && kept.lastHiddenState.count == 5 * 8)
        // Without passing, the first token's state is the first global token's (pool_with_global);
        // the other tokens' are the same either way.
        #expect(Array(kept.lastHiddenState[0..<8]) == Array(passing.lastHiddenState[0..<8]))
        #expect(Array(kept.lastHiddenState[8...]) == Array(passing.lastHiddenState[32...]))
        #expect(Array(kept.lastHiddenState[0..<8]) != Array(passing.lastHiddenState[24..<32]))
    }

    @Test func anUntiedLanguageModelHeadIsReadFromLMHeadWeight() throws {
        let model = try Self.model("mbart")
        let encoder = try Encoder(model: model)
        let input = try EncoderInput(inputIds: [0, 40, 41, 2], batchSize: 1, length: 4)
        let encoded = try encoder.encode(input)
        let decoderInput = try DecoderInput(ids: [2, 50, 51], batchSize: 1, length: 3)
        let tied = try Seq2SeqDecoder(model: model).logits(decoderInput, encoderInput: input, encoderOutput: encoded)
        var untiedConfiguration = encoder.configuration
        untiedConfiguration.tiesWordEmbeddings = false
        let missing = #expect(throws: LSGError.self) {
            try Seq2SeqDecoder(configuration: untiedConfiguration, weights: model.tensors)
        }
        #expect(missing?.description.hasSuffix("missing tensor 'lm_head.weight'") == true)
        // lm_head = 2 × the shared embeddings: the logits less final_logits_bias double.
        let doubled = try Seq2SeqDecoder(configuration: untiedConfiguration, weights: DoubledHead(base: model.tensors))
            .logits(decoderInput, encoderInput: input, encoderOutput: encoded)
        let bias = try model.tensors.floats("final_logits_bias")
        for (index, value) in doubled.enumerated() {
            let expected = 2 * (tied[index] - bias[index % bias.count]) + bias[index % bias.count]
            #expect(abs(value - expected) < 1e-5)
        }
    }

    @Test func maskFirstTokenHidesTheFirstTokenFromTheDecoderOnlyWithAnAttentionMask() throws {
        let model = try Self.model("bart")
        let overrides = LSGOverrides([.maskFirstToken: .bool(true)])
        let encoder = try Encoder(model: model, overrides: overrides)
        let decoder = try Seq2SeqDecoder(model: model, overrides: overrides)
        let ids: [Int64] = [0, 40, 41, 42, 2]
        let withMask = try EncoderInput(inputIds: ids, batchSize: 1, length: 5, attentionMask: [1, 1, 1, 1, 1])
        let withoutMask = try EncoderInput(inputIds: ids, batchSize: 1, length: 5)
        let decoderInput = try DecoderInput(ids: [2, 50], batchSize: 1, length: 2)
        let masked = try decoder.logits(decoderInput, encoderInput: withMask, encoderOutput: encoder.encode(withMask))
        let unmasked = try decoder.logits(decoderInput, encoderInput: withoutMask, encoderOutput: encoder.encode(withoutMask))
        // The encoder masks the first token either way; the reference's decoder only sees the
        // change when it got the caller's attention mask.
        #expect(try encoder.encode(withMask).lastHiddenState == encoder.encode(withoutMask).lastHiddenState)
        #expect(masked != unmasked)
        let bad = #expect(throws: LSGError.self) {
            try decoder.logits(DecoderInput(ids: [2, 9999], batchSize: 1, length: 2), encoderInput: withMask,
                               encoderOutput: encoder.encode(withMask))
        }
        #expect(bad?.description == "decoder_input_ids holds 9999, outside the vocabulary of 361")
    }
}

/// A checkpoint whose `lm_head.weight` is twice its shared embeddings.
private struct DoubledHead: WeightSource {
    let base: WeightSource
    var sourceName: String { base.sourceName }
    func shape(of name: String) -> [Int]? { base.shape(of: name == "lm_head.weight" ? "model.shared.weight" : name) }
    func floats(_ name: String) throws -> [Float] {
        name == "lm_head.weight" ? try base.floats("model.shared.weight").map { 2 * $0 } : try base.floats(name)
    }
}
