/// DistilBERT (transformers `modeling_distilbert.py`, the reference's
/// `distilbert/convert_distilbert_checkpoint.py`): no token types and no pooler, 6-layer
/// `transformer.layer.N` blocks, its own config key names, LayerNorms fixed at eps 1e-12, and
/// an MLM head of `vocab_transform` → activation → `vocab_layer_norm` → `vocab_projector`
/// (weight tied to the word embeddings).
extension FamilyDescription {
    static let distilBERT = FamilyDescription(
        classStem: "DistilBert", basePrefix: "distilbert", lsgModule: "modeling_lsg_distilbert", positionOffset: 0,
        configKeys: .distilBERT,
        configClassDefaults: [
            "vocab_size": 30522, "max_position_embeddings": 512, "sinusoidal_pos_embds": false, "n_layers": 6,
            "n_heads": 12, "dim": 768, "hidden_dim": 3072, "dropout": 0.1, "attention_dropout": 0.1,
            "activation": "gelu", "initializer_range": 0.02, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
            "pad_token_id": 0,
        ],
        configAttributeMap: ["hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"],
        encoderTensorNames: .distilBERT, pooler: nil, addsTokenTypeToGlobalRows: false,
        heads: distilBERTHeads, defaultHead: .maskedLM, maskedLM: distilBERTLMHead,
        lsgCodeRepository: "ccdv/lsg-distilbert-base-uncased-4096",
        modelCard: ModelCardFacts(name: "DistilBERT", citation: "Victor Sanh et al., *DistilBERT, a distilled version of BERT: smaller, faster, cheaper and lighter*, arXiv 1910.01108."))

    private static let distilBERTLMHead = MaskedLMHeadNames(
        dense: "vocab_transform", norm: "vocab_layer_norm", decoder: "vocab_projector.weight", bias: "vocab_projector.bias",
        biasAlias: nil, width: .hidden, activation: .model)

    private static var distilBERTHeads: [Architecture.Head: HeadDescription] {
        let lm = distilBERTLMHead
        func classifier(_ className: String, outputs: HeadModule.Width) -> HeadDescription {
            HeadDescription(
                className, modules: [.linear("pre_classifier", outputs: .hidden), .linear("classifier", outputs: outputs)],
                computation: TaskHeadComputation(.firstToken, [("pre_classifier", .relu), ("classifier", nil)]))
        }
        return [
            .base: .base("DistilBert", hasPooler: false),
            // A source without vocab_transform is refused rather than given a random one.
            .maskedLM: .languageModel("DistilBertForMaskedLM", lm, order: [
                .linear(lm.dense, outputs: .hidden, initialisedWhenMissing: false), lm.normModule, lm.biasModule,
            ]),
            .multipleChoice: classifier("DistilBertForMultipleChoice", outputs: .fixed(1)),
            .questionAnswering: .questionAnswering("DistilBert"),
            .sequenceClassification: classifier("DistilBertForSequenceClassification", outputs: .labels),
            .tokenClassification: .tokenClassification("DistilBert"),
        ]
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

extension EncoderTensorNames {
    /// DistilBERT (`modeling_distilbert.py`): no token types, `transformer.layer.N` blocks.
    static let distilBERT = EncoderTensorNames(
        wordEmbeddings: "embeddings.word_embeddings.weight", positionEmbeddings: "embeddings.position_embeddings.weight",
        tokenTypeEmbeddings: nil, embeddingNorm: "embeddings.LayerNorm",
        globalEmbeddings: "embeddings.global_embeddings.weight", embeddingProjection: nil,
        layerModules: LayerModules(
            prefix: .flat("transformer.layer."), query: "attention.q_lin", key: "attention.k_lin", value: "attention.v_lin",
            attentionOutput: "attention.out_lin", attentionNorm: "sa_layer_norm", intermediate: "ffn.lin1",
            output: "ffn.lin2", outputNorm: "output_layer_norm"))
}
