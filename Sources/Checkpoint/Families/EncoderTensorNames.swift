/// The names of an encoder's tensors in a family's checkpoints, relative to the encoder prefix
/// ("" or "bert." ...), in `state_dict` order. Modules are named without `.weight`/`.bias`.
public struct EncoderTensorNames: Sendable, Hashable {
    public let wordEmbeddings: String
    public let positionEmbeddings: String
    /// nil when the family has no token types (DistilBERT).
    public let tokenTypeEmbeddings: String?
    public let embeddingNorm: String
    public let globalEmbeddings: String
    /// The linear map from `embedding_size` to `hidden_size` (ELECTRA, stored only when they differ).
    public let embeddingProjection: String?
    /// The modules of one layer, `layer` standing for its index.
    let layerModules: LayerModules

    struct LayerModules: Sendable, Hashable {
        let prefix: String
        let query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String
    }

    /// BERT, RoBERTa, CamemBERT, XLM-R and ELECTRA (`modeling_bert.py` and its copies).
    public static let bertStyle = EncoderTensorNames(
        wordEmbeddings: "embeddings.word_embeddings.weight", positionEmbeddings: "embeddings.position_embeddings.weight",
        tokenTypeEmbeddings: "embeddings.token_type_embeddings.weight", embeddingNorm: "embeddings.LayerNorm",
        globalEmbeddings: "embeddings.global_embeddings.weight", embeddingProjection: "embeddings_project",
        layerModules: LayerModules(
            prefix: "encoder.layer.", query: "attention.self.query", key: "attention.self.key",
            value: "attention.self.value", attentionOutput: "attention.output.dense",
            attentionNorm: "attention.output.LayerNorm", intermediate: "intermediate.dense", output: "output.dense",
            outputNorm: "output.LayerNorm"))

    /// The embedding tensors the LSG embeddings module stores, global table last.
    public var embeddingTensors: [String] {
        [wordEmbeddings, positionEmbeddings] + (tokenTypeEmbeddings.map { [$0] } ?? [])
            + [embeddingNorm + ".weight", embeddingNorm + ".bias", globalEmbeddings]
    }

    /// The names of layer `index`'s modules.
    public func layer(_ index: Int) -> LayerNames {
        let m = layerModules
        let base = m.prefix + "\(index)."
        return LayerNames(
            query: base + m.query, key: base + m.key, value: base + m.value,
            attentionOutput: base + m.attentionOutput, attentionNorm: base + m.attentionNorm,
            intermediate: base + m.intermediate, output: base + m.output, outputNorm: base + m.outputNorm)
    }

    /// Every tensor of layer `index`, weight before bias.
    public func layerTensors(_ index: Int) -> [String] {
        layer(index).modules.flatMap { [$0 + ".weight", $0 + ".bias"] }
    }

    /// The modules of one layer, with their index.
    public struct LayerNames: Sendable, Hashable {
        public let query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String

        /// In `state_dict` order.
        public var modules: [String] {
            [query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm]
        }
    }
}
