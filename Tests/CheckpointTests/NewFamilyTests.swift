import Checkpoint
import Foundation
import JSON
import LSGErrors
import SafeTensors
import Testing

/// DistilBERT and ELECTRA: the classes, tensor names and config keys of the reference's
/// `distilbert/` and `electra/` converters.
struct NewFamilyTests {
    @Test func distilBERTClassesAndAutoMap() throws {
        let family = ModelFamily.distilbert
        #expect(ModelFamily(modelType: "distilbert") == family)
        #expect(family.architectures.map(\.className) == [
            "DistilBertModel", "DistilBertForMaskedLM", "DistilBertForMultipleChoice", "DistilBertForQuestionAnswering",
            "DistilBertForSequenceClassification", "DistilBertForTokenClassification",
        ])
        #expect(family.defaultArchitecture.className == "DistilBertForMaskedLM")
        #expect(family.architecture(named: "DistilBertForCausalLM") == nil)
        let autoMap = Dictionary(uniqueKeysWithValues: family.autoMap)
        #expect(autoMap.count == 7)
        #expect(autoMap["AutoConfig"] == "modeling_lsg_distilbert.LSGDistilBertConfig")
        #expect(autoMap["AutoModelForMaskedLM"] == "modeling_lsg_distilbert.LSGDistilBertForMaskedLM")
        #expect(!family.hasTokenTypes && !family.addsTokenTypeToGlobalRows)
    }

    @Test func distilBERTStoredTensors() throws {
        let masked = try #require(ModelFamily.distilbert.architecture(named: "DistilBertForMaskedLM"))
        let names = masked.storedTensors(layers: .unshared(1), tieWordEmbeddings: true)
        #expect(names.prefix(5) == ["distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight",
                                    "distilbert.embeddings.LayerNorm.weight", "distilbert.embeddings.LayerNorm.bias",
                                    "distilbert.embeddings.global_embeddings.weight"])
        #expect(names[5..<21] == [
            "attention.q_lin.weight", "attention.q_lin.bias", "attention.k_lin.weight", "attention.k_lin.bias",
            "attention.v_lin.weight", "attention.v_lin.bias", "attention.out_lin.weight", "attention.out_lin.bias",
            "sa_layer_norm.weight", "sa_layer_norm.bias", "ffn.lin1.weight", "ffn.lin1.bias", "ffn.lin2.weight",
            "ffn.lin2.bias", "output_layer_norm.weight", "output_layer_norm.bias",
        ].map { "distilbert.transformer.layer.0." + $0 }[...])
        #expect(names.suffix(5) == ["vocab_transform.weight", "vocab_transform.bias", "vocab_layer_norm.weight",
                                    "vocab_layer_norm.bias", "vocab_projector.bias"])
        #expect(masked.storedTensors(layers: .unshared(1), tieWordEmbeddings: false).suffix(2)
                == ["vocab_projector.weight", "vocab_projector.bias"])
        let base = try #require(ModelFamily.distilbert.architecture(named: "DistilBertModel"))
        #expect(!base.hasPooler)
        #expect(base.storedTensors(layers: .unshared(0), tieWordEmbeddings: true).count == 5)
    }

    @Test func electraClassesAndStoredTensors() throws {
        let family = ModelFamily.electra
        #expect(family.architectures.count == 8)
        #expect(family.defaultArchitecture.className == "ElectraForPreTraining")
        #expect(family.architecture(named: "LSGElectraForCausalLM")?.head == .causalLM)
        #expect(Dictionary(uniqueKeysWithValues: family.autoMap)["AutoModelForPreTraining"]
                == "modeling_lsg_electra.LSGElectraForPreTraining")
        #expect(family.hasTokenTypes && family.addsTokenTypeToGlobalRows)

        let generator = try #require(family.architecture(named: "ElectraForMaskedLM"))
        let names = generator.storedTensors(layers: .unshared(1), tieWordEmbeddings: true, projectsEmbeddings: true)
        #expect(names[5...7] == ["electra.embeddings.global_embeddings.weight", "electra.embeddings_project.weight",
                                 "electra.embeddings_project.bias"])
        #expect(names[8] == "electra.encoder.layer.0.attention.self.query.weight")
        #expect(names.suffix(5) == ["generator_predictions.LayerNorm.weight", "generator_predictions.LayerNorm.bias",
                                    "generator_predictions.dense.weight", "generator_predictions.dense.bias",
                                    "generator_lm_head.bias"])
        #expect(generator.tiedDecoderWeight == "generator_lm_head.weight")
        #expect(generator.storedTensors(layers: .unshared(1), tieWordEmbeddings: true).count == names.count - 2)
        let discriminator = try #require(family.architecture(named: "ElectraForPreTraining"))
        #expect(discriminator.tiedDecoderWeight == nil && !discriminator.hasPooler)
        #expect(discriminator.headTensors == ["discriminator_predictions.dense.weight", "discriminator_predictions.dense.bias",
                                              "discriminator_predictions.dense_prediction.weight",
                                              "discriminator_predictions.dense_prediction.bias"])
    }

    @Test func distilBERTConfigKeys() throws {
        let config = try ModelConfig.load(from: fixture("distilbert-tiny"))
        #expect(config.family == .distilbert)
        #expect(config.hiddenSize == 8 && config.numHiddenLayers == 2 && config.numAttentionHeads == 2)
        #expect(config.intermediateSize == 16 && config.hiddenAct == "gelu" && config.layerNormEps == 1e-12)
        #expect(config.embeddingSize == 8 && !config.projectsEmbeddings)
        var changed = config
        changed.hiddenSize = 12
        changed.hiddenAct = "relu"
        #expect(changed["dim"] == .int(12) && changed["activation"] == .string("relu"))
        #expect(changed["hidden_size"] == nil && changed["hidden_act"] == nil)

        let bad = try JSONValue.parse(Data(#"{"model_type": "distilbert", "n_heads": "two"}"#.utf8))
        let error = #expect(throws: LSGError.self) { try ModelConfig(json: bad, name: "config.json") }
        #expect(error?.description == "config.json: \"n_heads\" is a JSON string, expected a positive integer")
    }

    @Test func electraEmbeddingSize() throws {
        let config = try ModelConfig.load(from: fixture("electra-tiny"))
        #expect(config.family == .electra && config.hiddenSize == 8 && config.embeddingSize == 4 && config.projectsEmbeddings)
        let defaults = try ModelConfig(json: try JSONValue.parse(Data(#"{"model_type": "electra"}"#.utf8)), name: "c")
        #expect(defaults.embeddingSize == 128 && defaults.hiddenSize == 256 && defaults.numAttentionHeads == 4)
    }

    private func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("golden/fixtures/\(name)/config.json")
    }
}
