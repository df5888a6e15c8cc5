/// XLM-RoBERTa (transformers `modeling_xlm_roberta.py`, the reference's
/// `xlm_roberta/convert_xlm_roberta_checkpoint.py`): RoBERTa's classes under another name.
extension FamilyDescription {
    static let xlmRoberta = robertaStyle(
        classStem: "XLMRoberta", lsgModule: "modeling_lsg_xlm_roberta", vocabularySize: 30522,
        lsgCodeRepository: "ccdv/lsg-xlm-roberta-base-4096",
        modelCard: ModelCardFacts(name: "XLM-RoBERTa", citation: "Alexis Conneau et al., *Unsupervised Cross-lingual Representation Learning at Scale*, ACL 2020, arXiv 1911.02116."))
}
