/// ELECTRA facts (transformers `modeling_electra.py`, the reference's
/// `electra/convert_electra_checkpoint.py`): BERT-style layers without a pooler, embeddings
/// (and the global table) `embedding_size` wide with `embeddings_project` to `hidden_size`
/// when the two differ, a generator MLM head (`generator_predictions` dense to
/// `embedding_size` → exact GELU → LayerNorm → `generator_lm_head`, tied to the word
/// embeddings) and a discriminator head (`discriminator_predictions`).
extension Architecture {
    var electraHeadTensors: [String] {
        func linear(_ name: String) -> [String] { ["\(name).weight", "\(name).bias"] }
        switch head {
        case .base: return []
        case .maskedLM, .causalLM:
            return linear("generator_predictions.LayerNorm") + linear("generator_predictions.dense") + ["generator_lm_head.bias"]
        case .preTraining:
            return linear("discriminator_predictions.dense") + linear("discriminator_predictions.dense_prediction")
        case .sequenceClassification: return linear("classifier.dense") + linear("classifier.out_proj")
        case .multipleChoice: return linear("sequence_summary.summary") + linear("classifier")
        case .tokenClassification: return linear("classifier")
        case .questionAnswering: return linear("qa_outputs")
        }
    }
}

extension ModelConfig {
    /// The width of the embeddings and the global table: ELECTRA's `embedding_size` (default
    /// 128), the hidden size for every other family.
    public var embeddingSize: Int {
        get { family == .electra ? self["embedding_size"]?.intValue ?? 128 : hiddenSize }
        set {
            if family == .electra { self["embedding_size"] = .int(newValue) } else { hiddenSize = newValue }
        }
    }

    /// Whether the encoder maps its embeddings to the hidden size (`embeddings_project`).
    public var projectsEmbeddings: Bool { family == .electra && embeddingSize != hiddenSize }
}

extension ConfigKeys {
    /// `ElectraConfig`'s own defaults (the small discriminator's sizes).
    static let electra = ConfigKeys(
        hiddenSize: .init("hidden_size", default: 256), numHiddenLayers: .init("num_hidden_layers", default: 12),
        numAttentionHeads: .init("num_attention_heads", default: 4),
        intermediateSize: .init("intermediate_size", default: 1024), hiddenAct: "hidden_act", layerNormEps: "layer_norm_eps")
}
