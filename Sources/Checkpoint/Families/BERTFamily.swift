import JSON

/// BERT (transformers `modeling_bert.py`, the reference's `bert/convert_bert_checkpoint.py`):
/// no position offset, a pooler, the `cls.predictions` MLM head (activation from the config)
/// and the next-sentence pretraining head; the global rows get token-type row 0 added.
extension FamilyDescription {
    static let bert = FamilyDescription(
        classStem: "Bert", basePrefix: "bert", lsgModule: "modeling_lsg_bert", positionOffset: 0,
        configKeys: .bertStyle, configClassDefaults: bertConfigDefaults, configAttributeMap: [:],
        encoderTensorNames: .bertStyle, pooler: "pooler.dense", addsTokenTypeToGlobalRows: true,
        heads: bertHeads, defaultHead: .preTraining, maskedLM: bertLMHead,
        lsgCodeRepository: "ccdv/legal-lsg-small-uncased-4096",
        modelCard: ModelCardFacts(name: "BERT", citation: "Jacob Devlin et al., *BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding*, NAACL 2019, arXiv 1810.04805."))

    /// `BertConfig.__init__`'s parameters and defaults in 4.36.2; the configs copied from it
    /// start from these.
    static let bertConfigDefaults: JSONObject = [
        "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512, "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
        "pad_token_id": 0, "position_embedding_type": "absolute", "use_cache": true, "classifier_dropout": nil,
    ]

    private static let bertLMHead = MaskedLMHeadNames(
        dense: "cls.predictions.transform.dense", norm: "cls.predictions.transform.LayerNorm",
        decoder: "cls.predictions.decoder.weight", bias: "cls.predictions.bias", biasAlias: "cls.predictions.decoder.bias",
        width: .hidden, activation: .model)

    private static var bertHeads: [Architecture.Head: HeadDescription] {
        let lm = bertLMHead
        let lmModules = [lm.biasModule, lm.denseModule, lm.normModule]
        return [
            .base: .base("Bert", hasPooler: true),
            .maskedLM: .languageModel("BertForMaskedLM", lm, order: lmModules),
            .causalLM: .languageModel("BertLMHeadModel", lm, order: lmModules),
            .preTraining: HeadDescription(
                "BertForPreTraining", modules: lmModules + [.linear("cls.seq_relationship", outputs: .fixed(2))],
                tiedDecoder: lm.decoderModule, tiedAliases: [lm.bias: lm.biasAlias!], hasPooler: true),
            .multipleChoice: HeadDescription(
                "BertForMultipleChoice", modules: [.linear("classifier", outputs: .fixed(1))],
                computation: TaskHeadComputation(.pooledOutput, [("classifier", nil)]), hasPooler: true),
            .questionAnswering: .questionAnswering("Bert"),
            .sequenceClassification: HeadDescription(
                "BertForSequenceClassification", modules: [.linear("classifier", outputs: .labels)],
                computation: TaskHeadComputation(.pooledOutput, [("classifier", nil)]), hasPooler: true),
            .tokenClassification: .tokenClassification("Bert"),
        ]
    }
}
