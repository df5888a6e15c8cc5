import JSON

/// mBART (transformers `modeling_mbart.py`, the reference's `mbart/convert_mbart_checkpoint.py`):
/// BART's tensors plus a final `layer_norm` in each stack, with LayerNorms before each
/// sublayer; learned positions with 2 offset rows, tiled in both stacks.
extension FamilyDescription {
    static let mbart = encoderDecoderStyle(
        classStem: "MBart", lsgModule: "modeling_lsg_mbart",
        names: .bartStyle(embeddingNorm: true, finalNorm: true),
        facts: mbartFacts, configClassDefaults: mbartConfigDefaults, heads: .all,
        lsgCodeRepository: nil,
        modelCard: ModelCardFacts(
            name: "mBART",
            citation: "Yinhan Liu et al., *Multilingual Denoising Pre-training for Neural Machine Translation*, TACL 2020, arXiv 2001.08210."))

    static let mbartFacts = EncoderDecoderFacts(normPlacement: .beforeSublayer, positions: .learned,
                                                decoderKeys: EncoderDecoderFacts.bartDecoderKeys,
                                                decoderStart: .lastNonPadToken)

    /// `MBartConfig`'s explicit parameters with their transformers 4.36.2 defaults.
    static let mbartConfigDefaults: JSONObject = [
        "vocab_size": 50265, "max_position_embeddings": 1024, "encoder_layers": 12, "encoder_ffn_dim": 4096,
        "encoder_attention_heads": 16, "decoder_layers": 12, "decoder_ffn_dim": 4096, "decoder_attention_heads": 16,
        "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0, "use_cache": true, "is_encoder_decoder": true,
        "activation_function": "gelu", "d_model": 1024, "dropout": 0.1, "attention_dropout": 0.0,
        "activation_dropout": 0.0, "init_std": 0.02, "classifier_dropout": 0.0, "scale_embedding": false,
        "num_hidden_layers": 12, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "forced_eos_token_id": 2,
    ]
}
