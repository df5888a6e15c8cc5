/// ELECTRA (transformers `modeling_electra.py`, the reference's
/// `electra/convert_electra_checkpoint.py`): BERT-style layers without a pooler, embeddings
/// (and the global table) `embedding_size` wide with `embeddings_project` to `hidden_size`
/// when the two differ, a generator MLM head (`generator_predictions` dense to
/// `embedding_size` → exact GELU → LayerNorm → `generator_lm_head`, tied to the word
/// embeddings) and a discriminator head (`discriminator_predictions`). The global rows get
/// token-type row 0 added.
extension FamilyDescription {
    static let electra = FamilyDescription(
        classStem: "Electra", basePrefix: "electra", lsgModule: "modeling_lsg_electra", positionOffset: 0,
        configKeys: .electra,
        configClassDefaults: configDefaults(bertConfigDefaults, changing: [
            "embedding_size": 128, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024,
            "summary_type": "first", "summary_use_proj": true, "summary_activation": "gelu", "summary_last_dropout": 0.1,
        ]),
        configAttributeMap: [:], encoderTensorNames: .bertStyle, pooler: nil, addsTokenTypeToGlobalRows: true,
        heads: electraHeads, defaultHead: .preTraining, maskedLM: generatorHead,
        lsgCodeRepository: nil,
        modelCard: ModelCardFacts(
            name: "ELECTRA", citation: "Kevin Clark et al., *ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators*, ICLR 2020, arXiv 2003.10555.",
            untaggedHeads: [.preTraining]))

    private static let generatorHead = MaskedLMHeadNames(
        dense: "generator_predictions.dense", norm: "generator_predictions.LayerNorm", decoder: "generator_lm_head.weight",
        bias: "generator_lm_head.bias", biasAlias: nil, width: .embedding, activation: .gelu)

    private static var electraHeads: [Architecture.Head: HeadDescription] {
        let lm = generatorHead
        let lmModules = [lm.normModule, lm.denseModule, lm.biasModule]
        return [
            .base: .base("Electra", hasPooler: false),
            .maskedLM: .languageModel("ElectraForMaskedLM", lm, order: lmModules),
            .causalLM: .languageModel("ElectraForCausalLM", lm, order: lmModules),
            .preTraining: HeadDescription("ElectraForPreTraining", modules: [
                .linear("discriminator_predictions.dense", outputs: .hidden),
                .linear("discriminator_predictions.dense_prediction", outputs: .fixed(1)),
            ]),
            // SequenceSummary with ElectraConfig's summary_type "first", a projection and GELU.
            .multipleChoice: HeadDescription(
                "ElectraForMultipleChoice",
                modules: [.linear("sequence_summary.summary", outputs: .hidden), .linear("classifier", outputs: .fixed(1))],
                computation: TaskHeadComputation(.firstToken, [("sequence_summary.summary", .gelu), ("classifier", nil)])),
            .questionAnswering: .questionAnswering("Electra"),
            .sequenceClassification: HeadDescription(
                "ElectraForSequenceClassification",
                modules: [.linear("classifier.dense", outputs: .hidden), .linear("classifier.out_proj", outputs: .labels)],
                computation: TaskHeadComputation(.firstToken, [("classifier.dense", .gelu), ("classifier.out_proj", nil)])),
            .tokenClassification: .tokenClassification("Electra"),
        ]
    }
}

extension ConfigKeys {
    /// `ElectraConfig`'s own defaults (the small discriminator's sizes) and its `embedding_size`.
    static let electra = ConfigKeys(
        hiddenSize: .init("hidden_size", default: 256), numHiddenLayers: .init("num_hidden_layers", default: 12),
        numAttentionHeads: .init("num_attention_heads", default: 4),
        intermediateSize: .init("intermediate_size", default: 1024), hiddenAct: "hidden_act", layerNormEps: "layer_norm_eps",
        embeddingSize: .init("embedding_size", default: 128))
}
