import Checkpoint
import Foundation
import JSON
import LSGErrors
import SafeTensors
import Testing

/// ALBERT: the classes, tensor names, layer groups and config keys of the reference's `albert/`
/// converter and transformers' `modeling_albert.py`.
struct ALBERTFamilyTests {
    @Test func classesAndAutoMap() throws {
        let family = ModelFamily.albert
        #expect(ModelFamily(modelType: "albert") == family)
        #expect(family.architectures.map(\.className) == [
            "AlbertModel", "AlbertForMaskedLM", "AlbertForPreTraining", "AlbertForMultipleChoice",
            "AlbertForQuestionAnswering", "AlbertForSequenceClassification", "AlbertForTokenClassification",
        ])
        #expect(family.defaultArchitecture.className == "AlbertForPreTraining")
        #expect(family.architecture(named: "AlbertForCausalLM") == nil)
        let autoMap = Dictionary(uniqueKeysWithValues: family.autoMap)
        #expect(autoMap.count == 8)
        #expect(autoMap["AutoModelForPreTraining"] == "modeling_lsg_albert.LSGAlbertForPreTraining")
        #expect(family.positionOffset == 0 && family.hasTokenTypes && family.addsTokenTypeToGlobalRows)
    }

    /// The fixture (transformers' own AlbertForPreTraining state_dict, minus what LSG adds) names
    /// exactly the tensors we plan, in the order we plan them.
    @Test func storedTensorsAreTheFixtures() throws {
        let directory = fixtures.appendingPathComponent("albert-tiny")
        let config = try ModelConfig.load(from: directory.appendingPathComponent("config.json"))
        let pretraining = try #require(ModelFamily.albert.architecture(named: "AlbertForPreTraining"))
        let planned = pretraining.storedTensors(layers: config.layerSharing, tieWordEmbeddings: true,
                                                projectsEmbeddings: config.projectsEmbeddings)
            .filter { $0 != "albert.embeddings.global_embeddings.weight" }
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        #expect(Set(planned) == Set(file.names))
        #expect(planned.count == file.names.count)
        #expect(planned[5...8] == ["albert.encoder.embedding_hidden_mapping_in.weight", "albert.encoder.embedding_hidden_mapping_in.bias",
                                  "albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight",
                                  "albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.bias"])
        #expect(planned.contains("albert.encoder.albert_layer_groups.1.albert_layers.1.ffn_output.bias"))
        #expect(planned.suffix(4) == ["predictions.dense.weight", "predictions.dense.bias", "sop_classifier.classifier.weight",
                                      "sop_classifier.classifier.bias"])
        let stateDict = pretraining.stateDictNames(layers: config.layerSharing, projectsEmbeddings: true)
        #expect(stateDict.suffix(4) == ["predictions.decoder.weight", "predictions.decoder.bias", "sop_classifier.classifier.weight",
                                        "sop_classifier.classifier.bias"])
        #expect(pretraining.poolerModule == "albert.pooler")
        #expect(pretraining.tiedGroups(tieWordEmbeddings: true) == [
            ["predictions.bias", "predictions.decoder.bias"],
            ["albert.embeddings.word_embeddings.weight", "predictions.decoder.weight"],
        ])
        let masked = try #require(ModelFamily.albert.architecture(named: "AlbertForMaskedLM"))
        #expect(!masked.hasPooler)
    }

    @Test func layerGroupsAndConfigDefaults() throws {
        let config = try ModelConfig.load(from: fixtures.appendingPathComponent("albert-tiny/config.json"))
        #expect(config.embeddingSize == 4 && config.hiddenSize == 8 && config.projectsEmbeddings)
        // Hidden layer i runs group int(i / 2.5), each group two stored layers deep.
        #expect(config.layerSharing.schedule == [0, 1, 0, 1, 0, 1, 2, 3, 2, 3])
        #expect(config.layerSharing.storedLayerCount == 4 && config.layerSharing.problem == nil)

        let defaults = try ModelConfig(json: try JSONValue.parse(Data(#"{"model_type": "albert", "embedding_size": 64, "hidden_size": 64}"#.utf8)), name: "c")
        #expect(defaults.hiddenAct == "gelu_new" && defaults.numAttentionHeads == 64)
        #expect(defaults.projectsEmbeddings, "embedding_hidden_mapping_in exists whatever the sizes")
        #expect(defaults.layerSharing == LayerSharing(hiddenLayers: 12, groups: 1, layersPerGroup: 1))

        let tooDeep = LayerSharing(hiddenLayers: 3, groups: 2, layersPerGroup: 2)
        #expect(tooDeep.problem == "2 layer groups of 2 layers cannot serve 3 hidden layers (each group serves 1)")
        let bad = try JSONValue.parse(Data(#"{"model_type": "albert", "inner_group_num": 0}"#.utf8))
        let error = #expect(throws: LSGError.self) { try ModelConfig(json: bad, name: "config.json") }
        #expect(error?.description == "config.json: \"inner_group_num\" is a JSON integer, expected a positive integer")
    }

    private var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("golden/fixtures")
    }
}
