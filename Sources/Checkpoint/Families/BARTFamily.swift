import JSON

/// BART (transformers `modeling_bart.py`, the reference's `bart/convert_bart_checkpoint.py`):
/// an encoder-decoder under `model.` sharing `shared.weight` as both stacks' word embeddings;
/// learned positions with 2 offset rows in each stack (both tiled; `max_position_embeddings`
/// counts positions only); `layernorm_embedding` after the embeddings, LayerNorms after each
/// sublayer. The LSG encoder adds the global table; the decoder is BART's own. Heads: the
/// `lm_head` tied to the shared embeddings with `final_logits_bias`, an eos classifier, QA (both
/// on the decoder's states over `shift_tokens_right(input_ids)`).
/// mBART, BARThez and Pegasus are variations of it (`encoderDecoderStyle`).
extension FamilyDescription {
    static let bart = encoderDecoderStyle(
        classStem: "Bart", lsgModule: "modeling_lsg_bart",
        names: .bartStyle(embeddingNorm: true, finalNorm: false),
        facts: EncoderDecoderFacts(normPlacement: .afterSublayer, positions: .learned,
                                   decoderKeys: EncoderDecoderFacts.bartDecoderKeys),
        configClassDefaults: bartConfigDefaults, defaultLabelCount: 3, heads: .all,
        lsgCodeRepository: "ccdv/lsg-bart-base-4096",
        modelCard: ModelCardFacts(
            name: "BART",
            citation: "Mike Lewis et al., *BART: Denoising Sequence-to-Sequence Pre-training for Natural Language Generation, Translation, and Comprehension*, ACL 2020, arXiv 1910.13461."))

    /// `BartConfig`'s explicit parameters with their transformers 4.36.2 defaults (its three
    /// default labels are `configDefaultLabelCount`).
    static let bartConfigDefaults: JSONObject = [
        "vocab_size": 50265, "max_position_embeddings": 1024, "encoder_layers": 12, "encoder_ffn_dim": 4096,
        "encoder_attention_heads": 16, "decoder_layers": 12, "decoder_ffn_dim": 4096, "decoder_attention_heads": 16,
        "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0, "activation_function": "gelu", "d_model": 1024,
        "dropout": 0.1, "attention_dropout": 0.0, "activation_dropout": 0.0, "init_std": 0.02, "classifier_dropout": 0.0,
        "scale_embedding": false, "use_cache": true, "num_hidden_layers": 12, "pad_token_id": 1, "bos_token_id": 0,
        "eos_token_id": 2, "is_encoder_decoder": true, "decoder_start_token_id": 2, "forced_eos_token_id": 2,
    ]

    /// Which classes an encoder-decoder family has: BART and mBART all, Pegasus no task head.
    enum EncoderDecoderHeads { case all, generationOnly }

    /// A family modelled on BART.
    static func encoderDecoderStyle(classStem stem: String, lsgModule: String, names: EncoderTensorNames,
                                    facts: EncoderDecoderFacts, configClassDefaults: JSONObject, defaultLabelCount: Int = 2,
                                    heads: EncoderDecoderHeads,
                                    lsgCodeRepository: String?, modelCard: ModelCardFacts,
                                    modelType: String? = nil) -> FamilyDescription {
        var description = FamilyDescription(
            classStem: stem, basePrefix: "model", lsgModule: lsgModule,
            positionOffset: facts.positions == .learned ? 2 : 0,
            configKeys: .bartStyle, configClassDefaults: configClassDefaults,
            configAttributeMap: ["num_attention_heads": "encoder_attention_heads", "hidden_size": "d_model"],
            encoderTensorNames: names, pooler: nil, addsTokenTypeToGlobalRows: false,
            heads: encoderDecoderHeads(stem, heads), defaultHead: .conditionalGeneration, maskedLM: nil,
            lsgCodeRepository: lsgCodeRepository, modelCard: modelCard)
        description.encoderDecoder = facts
        description.modelType = modelType
        description.configDerivedDefaults = ["num_hidden_layers": "encoder_layers"]
        description.configDefaultLabelCount = defaultLabelCount
        return description
    }

    private static func encoderDecoderHeads(_ stem: String, _ heads: EncoderDecoderHeads) -> [Architecture.Head: HeadDescription] {
        var generation = HeadDescription(
            "\(stem)ForConditionalGeneration", tiedDecoder: .matrix("lm_head.weight", rows: .vocabulary, columns: .hidden))
        generation.buffersBeforeModel = [.matrix("final_logits_bias", rows: .fixed(1), columns: .vocabulary)]
        var causal = HeadDescription("\(stem)ForCausalLM")
        causal.refusal = "\(stem)ForCausalLM is the decoder alone, without the encoder that holds the global embeddings: lsg-converter 0.1.9 fails on it (AttributeError: no attribute 'shared'); convert \(stem)ForConditionalGeneration or \(stem)Model"
        var described: [Architecture.Head: HeadDescription] = [
            .base: .base(stem, hasPooler: false), .conditionalGeneration: generation, .causalLM: causal,
        ]
        if heads == .all {
            described[.questionAnswering] = HeadDescription(
                "\(stem)ForQuestionAnswering", modules: [.linear("qa_outputs", outputs: .fixed(2))],
                computation: TaskHeadComputation(.everyToken, [("qa_outputs", nil)], outputs: ["start_logits", "end_logits"],
                                                 states: .decoder))
            described[.sequenceClassification] = HeadDescription(
                "\(stem)ForSequenceClassification",
                modules: [.linear("classification_head.dense", outputs: .hidden),
                          .linear("classification_head.out_proj", outputs: .labels)],
                computation: TaskHeadComputation(
                    .lastEOSToken, [("classification_head.dense", .tanh), ("classification_head.out_proj", nil)],
                    states: .decoder))
        }
        return described
    }
}

extension ConfigKeys {
    /// `BartConfig` and its copies: `d_model`, the encoder's sizes, `activation_function`, and
    /// LayerNorms with torch's default epsilon.
    static let bartStyle: ConfigKeys = {
        var keys = ConfigKeys(
            hiddenSize: .init("d_model", default: 1024), numHiddenLayers: .init("encoder_layers", default: 12),
            numAttentionHeads: .init("encoder_attention_heads", default: 16),
            intermediateSize: .init("encoder_ffn_dim", default: 4096), hiddenAct: "activation_function", layerNormEps: nil)
        keys.defaultLayerNormEps = 1e-5
        keys.initializerRange = "init_std"
        return keys
    }()
}
