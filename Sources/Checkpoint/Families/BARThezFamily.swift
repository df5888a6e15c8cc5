/// BARThez: an mBART model (`model_type` "mbart") with a SentencePiece `BarthezTokenizer`,
/// recognised by `config.json`'s `tokenizer_class` (or a `model_type` of "barthez", the key
/// of the reference's own dispatch). Its tensors convert as mBART's: lsg-converter 0.1.9's
/// `LSGConverter` reads the model type and converts BARThez checkpoints with the mBART script.
/// Its BARThez script, which no `model_type` transformers accepts reaches, rebuilds the decoder
/// at random with the old position count; we do not reproduce that. The output points at the
/// BARThez LSG code (`modeling_lsg_barthez`, whose classes are `LSGMBart*`).
extension FamilyDescription {
    static let barthez = encoderDecoderStyle(
        classStem: "MBart", lsgModule: "modeling_lsg_barthez",
        names: .bartStyle(embeddingNorm: true, finalNorm: true),
        facts: mbartFacts, configClassDefaults: mbartConfigDefaults, heads: .all,
        lsgCodeRepository: nil,
        modelCard: ModelCardFacts(
            name: "BARThez",
            citation: "Moussa Kamal Eddine et al., *BARThez: a Skilled Pretrained French Sequence-to-Sequence Model*, EMNLP 2021, arXiv 2010.12321.",
            fillMaskExample: "Paris est la {tokenizer.mask_token} de la France."),
        modelType: "mbart")
}
