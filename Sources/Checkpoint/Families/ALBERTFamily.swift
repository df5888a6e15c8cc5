import JSON

/// ALBERT (transformers `modeling_albert.py`, the reference's `albert/convert_albert_checkpoint.py`):
/// embeddings (and the global table) `embedding_size` wide, mapped to `hidden_size` by
/// `encoder.embedding_hidden_mapping_in` inside the encoder (after adaptive padding); layers
/// shared in `num_hidden_groups` groups of `inner_group_num` layers; a `pooler` Linear; the
/// `predictions` MLM head (dense to `embedding_size` → `hidden_act` → LayerNorm → decoder tied to
/// the word embeddings) and the sentence-order head `sop_classifier`. No position offset; the
/// global rows get token-type row 0 added.
extension FamilyDescription {
    static let albert = FamilyDescription(
        classStem: "Albert", basePrefix: "albert", lsgModule: "modeling_lsg_albert", positionOffset: 0,
        configKeys: .albert,
        configClassDefaults: [
            "vocab_size": 30000, "embedding_size": 128, "hidden_size": 4096, "num_hidden_layers": 12,
            "num_hidden_groups": 1, "num_attention_heads": 64, "intermediate_size": 16384, "inner_group_num": 1,
            "hidden_act": "gelu_new", "hidden_dropout_prob": 0, "attention_probs_dropout_prob": 0,
            "max_position_embeddings": 512, "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "classifier_dropout_prob": 0.1, "position_embedding_type": "absolute", "pad_token_id": 0,
            "bos_token_id": 2, "eos_token_id": 3,
        ],
        configAttributeMap: [:], encoderTensorNames: .albert, pooler: "pooler", addsTokenTypeToGlobalRows: true,
        heads: albertHeads, defaultHead: .preTraining, maskedLM: albertLMHead,
        lsgCodeRepository: "ccdv/lsg-albert-base-v2-4096",
        modelCard: ModelCardFacts(name: "ALBERT", citation: "Zhenzhong Lan et al., *ALBERT: A Lite BERT for Self-supervised Learning of Language Representations*, ICLR 2020, arXiv 1909.11942."))

    private static let albertLMHead = MaskedLMHeadNames(
        dense: "predictions.dense", norm: "predictions.LayerNorm", decoder: "predictions.decoder.weight",
        bias: "predictions.bias", biasAlias: "predictions.decoder.bias", width: .embedding, activation: .model)

    private static var albertHeads: [Architecture.Head: HeadDescription] {
        let lm = albertLMHead
        let lmModules = [lm.biasModule, lm.normModule, lm.denseModule]
        func pooledClassifier(_ className: String, outputs: HeadModule.Width) -> HeadDescription {
            HeadDescription(className, modules: [.linear("classifier", outputs: outputs)],
                            computation: TaskHeadComputation(.pooledOutput, [("classifier", nil)]), hasPooler: true)
        }
        return [
            .base: .base("Albert", hasPooler: true),
            .maskedLM: .languageModel("AlbertForMaskedLM", lm, order: lmModules),
            .preTraining: HeadDescription(
                "AlbertForPreTraining", modules: lmModules + [.linear("sop_classifier.classifier", outputs: .labels)],
                tiedDecoder: lm.decoderModule, tiedAliases: [lm.bias: lm.biasAlias!], hasPooler: true),
            .multipleChoice: pooledClassifier("AlbertForMultipleChoice", outputs: .fixed(1)),
            .questionAnswering: .questionAnswering("Albert"),
            .sequenceClassification: pooledClassifier("AlbertForSequenceClassification", outputs: .labels),
            .tokenClassification: .tokenClassification("Albert"),
        ]
    }
}

extension ConfigKeys {
    /// `AlbertConfig`'s own defaults (albert-xxlarge's sizes), its `embedding_size` and layer groups.
    static let albert = ConfigKeys(
        hiddenSize: .init("hidden_size", default: 4096), numHiddenLayers: .init("num_hidden_layers", default: 12),
        numAttentionHeads: .init("num_attention_heads", default: 64),
        intermediateSize: .init("intermediate_size", default: 16384), hiddenAct: "hidden_act", layerNormEps: "layer_norm_eps",
        embeddingSize: .init("embedding_size", default: 128),
        layerGroups: LayerGroupKeys(groups: .init("num_hidden_groups", default: 1),
                                    layersPerGroup: .init("inner_group_num", default: 1)))
}

extension EncoderTensorNames {
    /// ALBERT: the map to the hidden size belongs to the encoder; layers are named by group and
    /// by index within the group, and declare `full_layer_layer_norm` first.
    static let albert = EncoderTensorNames(
        wordEmbeddings: "embeddings.word_embeddings.weight", positionEmbeddings: "embeddings.position_embeddings.weight",
        tokenTypeEmbeddings: "embeddings.token_type_embeddings.weight", embeddingNorm: "embeddings.LayerNorm",
        globalEmbeddings: "embeddings.global_embeddings.weight",
        embeddingProjection: EmbeddingProjection(
            module: "encoder.embedding_hidden_mapping_in", presentWhenSizesMatch: true, mapsAdaptivePadding: true),
        layerModules: LayerModules(
            prefix: .grouped(groups: "encoder.albert_layer_groups.", layers: "albert_layers."),
            query: "attention.query", key: "attention.key", value: "attention.value", attentionOutput: "attention.dense",
            attentionNorm: "attention.LayerNorm", intermediate: "ffn", output: "ffn_output",
            outputNorm: "full_layer_layer_norm", outputNormFirst: true))
}
