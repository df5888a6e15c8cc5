/// DistilBERT facts (transformers `modeling_distilbert.py`, the reference's
/// `distilbert/convert_distilbert_checkpoint.py`): no token types and no pooler, 6-layer
/// `transformer.layer.N` blocks, its own config key names, LayerNorms fixed at eps 1e-12, and
/// an MLM head of `vocab_transform` → activation → `vocab_layer_norm` → `vocab_projector`
/// (weight tied to the word embeddings).
extension Architecture {
    var distilBERTHeadTensors: [String] {
        func linear(_ name: String) -> [String] { ["\(name).weight", "\(name).bias"] }
        switch head {
        case .base, .causalLM, .preTraining: return []
        case .maskedLM: return linear("vocab_transform") + linear("vocab_layer_norm") + ["vocab_projector.bias"]
        case .sequenceClassification, .multipleChoice: return linear("pre_classifier") + linear("classifier")
        case .tokenClassification: return linear("classifier")
        case .questionAnswering: return linear("qa_outputs")
        }
    }
}

extension ConfigKeys {
    /// `DistilBertConfig` names its sizes `dim`, `n_layers`, `n_heads`, `hidden_dim` and its
    /// activation `activation` (transformers maps `hidden_size` etc. onto them only in Python).
    static let distilBERT = ConfigKeys(
        hiddenSize: .init("dim", default: 768), numHiddenLayers: .init("n_layers", default: 6),
        numAttentionHeads: .init("n_heads", default: 12), intermediateSize: .init("hidden_dim", default: 3072),
        hiddenAct: "activation", layerNormEps: nil)
}
