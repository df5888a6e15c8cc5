import JSON

/// Pegasus (transformers `modeling_pegasus.py`, the reference's
/// `pegasus/convert_pegasus_checkpoint.py`): BART's layout without `layernorm_embedding`, a
/// final `layer_norm` in each stack, LayerNorms before each sublayer, and sinusoidal positions
/// (no offset) that the reference rebuilds for the new length in both stacks
/// (`resize_position_embeddings`). The global rows start from the source's table. Only the base
/// model and the generation class.
extension FamilyDescription {
    static let pegasus = encoderDecoderStyle(
        classStem: "Pegasus", lsgModule: "modeling_lsg_pegasus",
        names: .bartStyle(embeddingNorm: false, finalNorm: true),
        facts: EncoderDecoderFacts(normPlacement: .beforeSublayer, positions: .sinusoidal,
                                   decoderKeys: EncoderDecoderFacts.bartDecoderKeys),
        configClassDefaults: [
            "vocab_size": 50265, "max_position_embeddings": 1024, "encoder_layers": 12, "encoder_ffn_dim": 4096,
            "encoder_attention_heads": 16, "decoder_layers": 12, "decoder_ffn_dim": 4096, "decoder_attention_heads": 16,
            "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0, "use_cache": true, "is_encoder_decoder": true,
            "activation_function": "gelu", "d_model": 1024, "dropout": 0.1, "attention_dropout": 0.0,
            "activation_dropout": 0.0, "init_std": 0.02, "decoder_start_token_id": 0, "scale_embedding": false,
            "num_hidden_layers": 12, "pad_token_id": 0, "eos_token_id": 1, "forced_eos_token_id": 1,
        ],
        heads: .generationOnly, lsgCodeRepository: "ccdv/lsg-pegasus-large-4096",
        modelCard: ModelCardFacts(
            name: "Pegasus",
            citation: "Jingqing Zhang et al., *PEGASUS: Pre-training with Extracted Gap-sentences for Abstractive Summarization*, ICML 2020, arXiv 1912.08777."))
}
