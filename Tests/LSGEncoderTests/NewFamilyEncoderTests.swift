import Checkpoint
import Foundation
import Golden
import LSGEncoder
import LSGErrors
import Testing

/// DistilBERT and ELECTRA specifics besides the golden comparisons (which cover the outputs).
@Suite("Encoder: DistilBERT and ELECTRA")
struct NewFamilyEncoderTests {
    @Test func distilBERTHasNoTokenTypesAndNoPooler() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-distilbert-tiny-512"))
        let encoder = try Encoder(model: model, heads: [.mlm])
        #expect(encoder.configuration.hiddenSize == 8 && !encoder.configuration.projectsEmbeddings)
        let ids: [Int64] = [2, 40, 41, 3]
        let output = try encoder.encode(EncoderInput(inputIds: ids, batchSize: 1, length: 4))
        #expect(output.logits?.count == 4 * encoder.configuration.vocabSize)
        let error = #expect(throws: LSGError.self) {
            try encoder.encode(EncoderInput(inputIds: ids, batchSize: 1, length: 4, tokenTypeIds: [0, 0, 0, 0]))
        }
        #expect(error?.description == "token_type_ids given, but distilbert models have no token types")
        #expect(throws: LSGError.self) { try Encoder(model: model, heads: [.pooler]) }
    }

    @Test func maskedLMLogitsOfChosenRowsOnly() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-distilbert-tiny-512"))
        let encoder = try Encoder(model: model, heads: [.mlm])
        let v = encoder.configuration.vocabSize
        let input = try EncoderInput(inputIds: [2, 40, 41, 3, 2, 50, 51, 3], batchSize: 2, length: 4)
        let all = try #require(try encoder.encode(input).logits)
        var options = EncodeOptions()
        options.maskedLMRows = [6, 1, 1]
        let chosen = try encoder.encode(input, options: options)
        #expect(chosen.logits == Array(all[(6 * v)..<(7 * v)] + all[v..<(2 * v)] + all[v..<(2 * v)]))
        options.maskedLMRows = [8]
        let error = #expect(throws: LSGError.self) { try encoder.encode(input, options: options) }
        #expect(error?.description == "MLM logits asked for row 8, outside the 8 rows of the batch")
    }

    @Test func electraProjectsItsNarrowEmbeddings() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-electra-tiny-512"))
        let encoder = try Encoder(model: model, heads: [.mlm])
        let config = encoder.configuration
        #expect(config.embeddingSize == 4 && config.hiddenSize == 8 && config.projectsEmbeddings)
        // A checkpoint without embeddings_project cannot run with a narrower embedding.
        let withoutProjection = FilteredWeights(base: model.tensors, hidden: "electra.embeddings_project.weight")
        let error = #expect(throws: LSGError.self) {
            try Encoder(configuration: config, weights: withoutProjection)
        }
        #expect(error?.description.contains("missing tensor 'electra.embeddings_project.weight'") == true)
        #expect(throws: LSGError.self) { try Encoder(model: model, heads: [.pooler]) }
    }

    @Test func onlyELECTRAMayProjectEmbeddings() {
        #expect(throws: LSGError.self) {
            try EncoderConfiguration(
                family: .bert, hiddenSize: 8, numAttentionHeads: 2, numHiddenLayers: 1, intermediateSize: 16,
                layerNormEps: 1e-12, vocabSize: 10, typeVocabSize: 2, padTokenId: 0, maxPositionEmbeddings: 16,
                hiddenAct: .gelu, lsg: nil, embeddingSize: 4)
        }
    }
}
