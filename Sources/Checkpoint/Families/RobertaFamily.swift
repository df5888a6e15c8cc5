import JSON

/// RoBERTa (transformers `modeling_roberta.py`, the reference's
/// `roberta/convert_roberta_checkpoint.py`): BERT layers under `roberta.`, positions counted
/// from `padding_idx + 1` (offset 2), the `lm_head` MLM head with exact GELU and the
/// `classifier.dense` → `classifier.out_proj` sequence classifier. CamemBERT and XLM-R copy it.
extension FamilyDescription {
    static let roberta = robertaStyle(
        classStem: "Roberta", lsgModule: "modeling_lsg_roberta", vocabularySize: 50265,
        lsgCodeRepository: "ccdv/lsg-distilroberta-base-4096",
        modelCard: ModelCardFacts(name: "RoBERTa", citation: "Yinhan Liu et al., *RoBERTa: A Robustly Optimized BERT Pretraining Approach*, arXiv 1907.11692."))

    /// A family modelled on RoBERTa; `vocabularySize` is its config class's default.
    static func robertaStyle(classStem stem: String, lsgModule: String, vocabularySize: Int, lsgCodeRepository: String?,
                             modelCard: ModelCardFacts) -> FamilyDescription {
        FamilyDescription(
            classStem: stem, basePrefix: "roberta", lsgModule: lsgModule, positionOffset: 2,
            configKeys: .bertStyle,
            configClassDefaults: configDefaults(bertConfigDefaults, changing: [
                "vocab_size": .int(vocabularySize), "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
            ]),
            configAttributeMap: [:], encoderTensorNames: .bertStyle, pooler: "pooler.dense", addsTokenTypeToGlobalRows: false,
            heads: robertaHeads(stem), defaultHead: .maskedLM, maskedLM: robertaLMHead,
            lsgCodeRepository: lsgCodeRepository, modelCard: modelCard)
    }

    private static let robertaLMHead = MaskedLMHeadNames(
        dense: "lm_head.dense", norm: "lm_head.layer_norm", decoder: "lm_head.decoder.weight", bias: "lm_head.bias",
        biasAlias: "lm_head.decoder.bias", width: .hidden, activation: .gelu)

    private static func robertaHeads(_ stem: String) -> [Architecture.Head: HeadDescription] {
        let lm = robertaLMHead
        let lmModules = [lm.biasModule, lm.denseModule, lm.normModule]
        return [
            .base: .base(stem, hasPooler: true),
            .maskedLM: .languageModel("\(stem)ForMaskedLM", lm, order: lmModules),
            .causalLM: .languageModel("\(stem)ForCausalLM", lm, order: lmModules),
            .multipleChoice: HeadDescription(
                "\(stem)ForMultipleChoice", modules: [.linear("classifier", outputs: .fixed(1))],
                computation: TaskHeadComputation(.pooledOutput, [("classifier", nil)]), hasPooler: true),
            .questionAnswering: .questionAnswering(stem),
            .sequenceClassification: HeadDescription(
                "\(stem)ForSequenceClassification",
                modules: [.linear("classifier.dense", outputs: .hidden), .linear("classifier.out_proj", outputs: .labels)],
                computation: TaskHeadComputation(.firstToken, [("classifier.dense", .tanh), ("classifier.out_proj", nil)])),
            .tokenClassification: .tokenClassification(stem),
        ]
    }
}
