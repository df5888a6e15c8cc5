/// CamemBERT (transformers `modeling_camembert.py`, the reference's
/// `camembert/convert_camembert_checkpoint.py`): RoBERTa's classes under another name.
extension FamilyDescription {
    static let camembert = robertaStyle(
        classStem: "Camembert", lsgModule: "modeling_lsg_camembert", vocabularySize: 30522,
        lsgCodeRepository: "ccdv/lsg-camembert-base-4096",
        modelCard: ModelCardFacts(
            name: "CamemBERT", citation: "Louis Martin et al., *CamemBERT: a Tasty French Language Model*, ACL 2020, doi 10.18653/v1/2020.acl-main.645.",
            fillMaskExample: "Paris est la {tokenizer.mask_token} de la France."))
}
