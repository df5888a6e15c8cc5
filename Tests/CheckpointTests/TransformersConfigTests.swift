import Checkpoint
import Foundation
import JSON
import LSGErrors
import Testing

@testable import Checkpoint

/// `TransformersConfig.saved` against what transformers 4.36.2 writes. The expectations were
/// recorded with the reference environment: `LSGBertConfig(**d).to_diff_dict()` (and
/// `LSGDistilBertConfig`), LSG settings left out; the model-level effects (`gradient_checkpointing`
/// consumed by a model that supports it) from `from_pretrained` + `save_pretrained`.
struct TransformersConfigTests {
    func saved(_ text: String, _ family: ModelFamily = .bert) throws -> JSONValue {
        .object(try TransformersConfig.saved(try #require(try JSONValue.parse(text).objectValue), family: family))
    }

    @Test func anOldConfigLosesDefaultsAndGainsTheClassKeys() throws {
        let value = try saved(#"{"hidden_size": 8, "num_labels": 3, "label2id": {"a": 0}, "output_attentions": 0, "top_k": 50.0, "gradient_checkpointing": true, "xla_device": false, "foo": 1, "transformers_version": "2.11.0"}"#)
        let expected = try JSONValue.parse(#"{"attention_probs_dropout_prob": 0.1, "classifier_dropout": null, "foo": 1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 8, "id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}, "initializer_range": 0.02, "intermediate_size": 3072, "label2id": {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "position_embedding_type": "absolute", "transformers_version": "4.36.2", "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}"#)
        #expect(value == expected)
    }

    @Test func labelsKeepTheirMapAndSortByNumber() throws {
        let labels = (0..<12).map { "\"\($0)\": \"L\($0)\"" }.joined(separator: ", ")
        let value = try saved(#"{"id2label": {"# + labels + #"}, "problem_type": "single_label_classification"}"#)
        #expect(value["label2id"] == .null)
        #expect(value["problem_type"] == "single_label_classification")
        let text = value.sortedLikePython(integerKeyedObjects: ["id2label"]).pythonJSONString(sortKeys: false)
        #expect(text.contains(#""9": "L9",\#n    "10": "L10""#))
    }

    @Test func distilBERTKeysGoThroughItsAttributeMap() throws {
        let value = try saved(#"{"hidden_size": 16, "n_layers": 2, "output_hidden_states": true}"#, .distilbert)
        let expected = try JSONValue.parse(#"{"activation": "gelu", "attention_dropout": 0.1, "dim": 16, "dropout": 0.1, "hidden_dim": 3072, "initializer_range": 0.02, "max_position_embeddings": 512, "model_type": "distilbert", "n_heads": 12, "n_layers": 2, "output_hidden_states": true, "pad_token_id": 0, "qa_dropout": 0.1, "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": false, "transformers_version": "4.36.2", "vocab_size": 30522}"#)
        #expect(value == expected)
    }

    @Test func whatTransformersRefusesIsRefused() {
        for (text, fragment) in [
            (#"{"problem_type": "ranking"}"#, "\"problem_type\" 'ranking' is not one of"),
            (#"{"id2label": [1]}"#, "Argument id2label should be a dictionary"),
            (#"{"label2id": "x"}"#, "Argument label2id should be a dictionary"),
            (#"{"id2label": {"one": "x"}}"#, "\"id2label\" key \"one\" is not an integer"),
        ] {
            let error = #expect(throws: LSGError.self) { _ = try saved(text) }
            #expect(error?.problem.contains(fragment) == true, "\(text): \(String(describing: error?.problem))")
        }
    }

    @Test func pythonEqualityAcrossNumberTypes() {
        #expect(TransformersConfig.pythonEqual(.bool(false), .int(0)))
        #expect(TransformersConfig.pythonEqual(.double(50), .int(50)))
        #expect(!TransformersConfig.pythonEqual(.string("0"), .int(0)))
        #expect(TransformersConfig.pythonEqual(["a": [1, true]], ["a": [1.0, 1]]))
    }
}
