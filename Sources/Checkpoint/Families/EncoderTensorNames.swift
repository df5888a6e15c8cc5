/// The names of an encoder's tensors in a family's checkpoints, relative to the encoder prefix
/// ("" or "bert." ...), in `state_dict` order. Modules are named without `.weight`/`.bias`.
public struct EncoderTensorNames: Sendable, Hashable {
    public let wordEmbeddings: String
    public let positionEmbeddings: String
    /// nil when the family has no token types (DistilBERT, the encoder-decoder families).
    public let tokenTypeEmbeddings: String?
    /// The LayerNorm on the embeddings; nil when there is none (Pegasus).
    public let embeddingNorm: String?
    public let globalEmbeddings: String
    /// The linear map from `embedding_size` to `hidden_size` (ELECTRA, ALBERT); nil when the
    /// embeddings always have the hidden size.
    public let embeddingProjection: EmbeddingProjection?
    /// The modules of one layer, `layer` standing for its index.
    let layerModules: LayerModules
    /// The LayerNorm after the last layer (mBART and Pegasus, whose layers normalise first);
    /// nil when there is none.
    public var finalNorm: String? = nil
    /// The encoder's own name for the word embeddings when they are a shared table's (BART's
    /// `encoder.embed_tokens.weight`, tied to `shared.weight` and never stored); nil otherwise.
    public var wordEmbeddingsCopy: String? = nil
    /// The decoder of the encoder-decoder families; nil for encoders.
    public var decoder: DecoderTensorNames? = nil

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
        /// Whether `state_dict` lists the projections key, value, query (BART's attention
        /// declares `k_proj` first) rather than query, key, value.
        var keyFirst = false
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
            + (embeddingNorm.map { [$0 + ".weight", $0 + ".bias"] } ?? []) + [globalEmbeddings]
    }

    /// The names that share the word embeddings' parameter besides it, in `state_dict` order.
    public var wordEmbeddingsCopies: [String] {
        [wordEmbeddingsCopy, decoder?.wordEmbeddingsCopy].compactMap { $0 }
    }

    /// Every tensor of an encoder-decoder model, in `state_dict` order, tied copies excluded:
    /// the shared word embeddings; the encoder's positions, layers, norms and global table; the
    /// decoder's positions, layers and norms.
    public func encoderDecoderTensors(encoderLayers: Int, decoder: DecoderTensorNames, decoderLayers: Int) -> [String] {
        let norms = { (names: [String?]) in names.compactMap { $0 }.flatMap { [$0 + ".weight", $0 + ".bias"] } }
        return [wordEmbeddings, positionEmbeddings] + (0..<encoderLayers).flatMap { layerTensors($0) }
            + norms([embeddingNorm, finalNorm]) + [globalEmbeddings, decoder.positionEmbeddings]
            + (0..<decoderLayers).flatMap { decoder.layerTensors($0) } + norms([decoder.embeddingNorm, decoder.finalNorm])
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
            outputNormFirst: m.outputNormFirst, keyFirst: m.keyFirst)
    }

    /// Every tensor of stored layer `index`, weight before bias.
    public func layerTensors(_ index: Int, layersPerGroup: Int = 1) -> [String] {
        layer(index, layersPerGroup: layersPerGroup).modules.flatMap { [$0 + ".weight", $0 + ".bias"] }
    }

    /// The modules of one layer, with their index.
    public struct LayerNames: Sendable, Hashable {
        public let query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String
        let outputNormFirst: Bool
        let keyFirst: Bool

        /// In `state_dict` order.
        public var modules: [String] {
            let projections = keyFirst ? [key, value, query] : [query, key, value]
            let rest = projections + [attentionOutput, attentionNorm, intermediate, output]
            return outputNormFirst ? [outputNorm] + rest : rest + [outputNorm]
        }
    }

    /// BART, mBART and Pegasus encoders (`modeling_bart.py` and its copies), relative to the
    /// encoder-decoder model: the shared word embeddings, then `encoder.`; the decoder is described
    /// by `decoder`. `embeddingNorm` and `finalNorm` are given per family.
    public static func bartStyle(embeddingNorm: Bool, finalNorm: Bool) -> EncoderTensorNames {
        var names = EncoderTensorNames(
            wordEmbeddings: "shared.weight", positionEmbeddings: "encoder.embed_positions.weight", tokenTypeEmbeddings: nil,
            embeddingNorm: embeddingNorm ? "encoder.layernorm_embedding" : nil,
            globalEmbeddings: "encoder.global_embeddings.weight", embeddingProjection: nil,
            layerModules: .bartStyle(prefix: "encoder.layers."))
        names.finalNorm = finalNorm ? "encoder.layer_norm" : nil
        names.wordEmbeddingsCopy = "encoder.embed_tokens.weight"
        names.decoder = DecoderTensorNames(
            wordEmbeddingsCopy: "decoder.embed_tokens.weight", positionEmbeddings: "decoder.embed_positions.weight",
            embeddingNorm: embeddingNorm ? "decoder.layernorm_embedding" : nil, finalNorm: finalNorm ? "decoder.layer_norm" : nil,
            layerPrefix: "decoder.layers.")
        return names
    }
}

extension EncoderTensorNames.LayerModules {
    /// A BART-style layer: attention projections `k_proj`, `v_proj`, `q_proj`, `out_proj`, then
    /// the norms and feed-forward named by their place.
    static func bartStyle(prefix: String) -> Self {
        Self(prefix: .flat(prefix), query: "self_attn.q_proj", key: "self_attn.k_proj", value: "self_attn.v_proj",
             attentionOutput: "self_attn.out_proj", attentionNorm: "self_attn_layer_norm", intermediate: "fc1",
             output: "fc2", outputNorm: "final_layer_norm", keyFirst: true)
    }
}

/// The decoder of an encoder-decoder family, relative to the model (`decoder.`...): its own
/// position table, layers with self-attention, cross-attention over the encoder output and a
/// feed-forward, and its norms. Its word embeddings are the encoder's (`shared.weight`).
public struct DecoderTensorNames: Sendable, Hashable {
    /// The decoder's name for the shared word embeddings (tied, never stored).
    public let wordEmbeddingsCopy: String
    public let positionEmbeddings: String
    public let embeddingNorm: String?
    public let finalNorm: String?
    let layerPrefix: String

    /// The modules of decoder layer `index`.
    public func layer(_ index: Int) -> LayerNames {
        let base = layerPrefix + "\(index)."
        return LayerNames(
            selfAttention: .init(base, "self_attn"), selfAttentionNorm: base + "self_attn_layer_norm",
            crossAttention: .init(base, "encoder_attn"), crossAttentionNorm: base + "encoder_attn_layer_norm",
            intermediate: base + "fc1", output: base + "fc2", outputNorm: base + "final_layer_norm")
    }

    /// Every tensor of decoder layer `index` in `state_dict` order, weight before bias.
    public func layerTensors(_ index: Int) -> [String] {
        layer(index).modules.flatMap { [$0 + ".weight", $0 + ".bias"] }
    }

    public struct Attention: Sendable, Hashable {
        public let query, key, value, output: String

        init(_ base: String, _ module: String) {
            query = base + module + ".q_proj"
            key = base + module + ".k_proj"
            value = base + module + ".v_proj"
            output = base + module + ".out_proj"
        }

        /// In `state_dict` order (key, value, query, output).
        var modules: [String] { [key, value, query, output] }
    }

    public struct LayerNames: Sendable, Hashable {
        public let selfAttention: Attention
        public let selfAttentionNorm: String
        public let crossAttention: Attention
        public let crossAttentionNorm: String
        public let intermediate, output, outputNorm: String

        /// In `state_dict` order.
        public var modules: [String] {
            selfAttention.modules + [selfAttentionNorm] + crossAttention.modules + [crossAttentionNorm, intermediate, output, outputNorm]
        }
    }
}
