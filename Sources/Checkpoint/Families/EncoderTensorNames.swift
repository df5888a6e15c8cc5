/// The names of an encoder's tensors in a family's checkpoints, relative to the encoder prefix
/// ("" or "bert." ...), in `state_dict` order. Modules are named without `.weight`/`.bias`.
public struct EncoderTensorNames: Sendable, Hashable {
    public let wordEmbeddings: String
    public let positionEmbeddings: String
    /// nil when the family has no token types (DistilBERT).
    public let tokenTypeEmbeddings: String?
    public let embeddingNorm: String
    public let globalEmbeddings: String
    /// The linear map from `embedding_size` to `hidden_size` (ELECTRA, ALBERT); nil when the
    /// embeddings always have the hidden size.
    public let embeddingProjection: EmbeddingProjection?
    /// The modules of one layer, `layer` standing for its index.
    let layerModules: LayerModules

    /// A family's linear map from the embeddings' width to the hidden size.
    public struct EmbeddingProjection: Sendable, Hashable {
        public let module: String
        /// Whether the model has it when `embedding_size` equals `hidden_size` (ALBERT always
        /// has one; ELECTRA only when the sizes differ).
        public let presentWhenSizesMatch: Bool
        /// Whether it also maps the rows adaptive padding adds: ALBERT pads inside its encoder,
        /// before the map, so those rows hold the bias; ELECTRA pads after it, so they stay zero.
        public let mapsAdaptivePadding: Bool

        /// Whether a model with these sizes has the projection.
        public func isPresent(embeddingSize: Int, hiddenSize: Int) -> Bool {
            presentWhenSizesMatch || embeddingSize != hiddenSize
        }
    }

    struct LayerModules: Sendable, Hashable {
        /// How a stored layer's index becomes its name prefix.
        enum Prefix: Sendable, Hashable {
            /// `<prefix><index>.`
            case flat(String)
            /// `<groups><group>.<layers><layer>.`, layers numbered within their group (ALBERT).
            case grouped(groups: String, layers: String)
        }

        let prefix: Prefix
        let query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String
        /// Whether `state_dict` lists the output LayerNorm first (ALBERT declares it first).
        var outputNormFirst = false
    }

    /// BERT, RoBERTa, CamemBERT, XLM-R and ELECTRA (`modeling_bert.py` and its copies).
    public static let bertStyle = EncoderTensorNames(
        wordEmbeddings: "embeddings.word_embeddings.weight", positionEmbeddings: "embeddings.position_embeddings.weight",
        tokenTypeEmbeddings: "embeddings.token_type_embeddings.weight", embeddingNorm: "embeddings.LayerNorm",
        globalEmbeddings: "embeddings.global_embeddings.weight",
        embeddingProjection: EmbeddingProjection(module: "embeddings_project", presentWhenSizesMatch: false, mapsAdaptivePadding: false),
        layerModules: LayerModules(
            prefix: .flat("encoder.layer."), query: "attention.self.query", key: "attention.self.key",
            value: "attention.self.value", attentionOutput: "attention.output.dense",
            attentionNorm: "attention.output.LayerNorm", intermediate: "intermediate.dense", output: "output.dense",
            outputNorm: "output.LayerNorm"))

    /// The embedding tensors the LSG embeddings module stores, global table last.
    public var embeddingTensors: [String] {
        [wordEmbeddings, positionEmbeddings] + (tokenTypeEmbeddings.map { [$0] } ?? [])
            + [embeddingNorm + ".weight", embeddingNorm + ".bias", globalEmbeddings]
    }

    /// The names of stored layer `index`'s modules; `layersPerGroup` numbers grouped layers.
    public func layer(_ index: Int, layersPerGroup: Int = 1) -> LayerNames {
        let m = layerModules
        let base: String
        switch m.prefix {
        case .flat(let prefix): base = prefix + "\(index)."
        case .grouped(let groups, let layers):
            base = groups + "\(index / layersPerGroup)." + layers + "\(index % layersPerGroup)."
        }
        return LayerNames(
            query: base + m.query, key: base + m.key, value: base + m.value,
            attentionOutput: base + m.attentionOutput, attentionNorm: base + m.attentionNorm,
            intermediate: base + m.intermediate, output: base + m.output, outputNorm: base + m.outputNorm,
            outputNormFirst: m.outputNormFirst)
    }

    /// Every tensor of stored layer `index`, weight before bias.
    public func layerTensors(_ index: Int, layersPerGroup: Int = 1) -> [String] {
        layer(index, layersPerGroup: layersPerGroup).modules.flatMap { [$0 + ".weight", $0 + ".bias"] }
    }

    /// The modules of one layer, with their index.
    public struct LayerNames: Sendable, Hashable {
        public let query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String
        let outputNormFirst: Bool

        /// In `state_dict` order.
        public var modules: [String] {
            let rest = [query, key, value, attentionOutput, attentionNorm, intermediate, output]
            return outputNormFirst ? [outputNorm] + rest : rest + [outputNorm]
        }
    }
}
