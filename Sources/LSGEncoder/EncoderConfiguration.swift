import Checkpoint
import LSGErrors
import SafeTensors

/// Everything the encoder needs to know about a model, as plain values. Built from a
/// `ModelConfig` (plus any LSG overrides), or directly in tests.
public struct EncoderConfiguration: Sendable, Hashable {
    public var family: ModelFamily
    public var hiddenSize: Int
    /// The width of the embeddings (ELECTRA's `embedding_size`); when it differs from the
    /// hidden size, `embeddings_project` maps the embeddings to it.
    public var embeddingSize: Int
    public var numAttentionHeads: Int
    public var numHiddenLayers: Int
    /// ALBERT's layer groups; nil when every hidden layer has its own weights.
    public var layerGroups: LayerSharing.Groups?
    public var intermediateSize: Int
    public var layerNormEps: Float
    public var vocabSize: Int
    public var typeVocabSize: Int
    /// The padding id; RoBERTa-style position ids count from it.
    public var padTokenId: Int
    public var maxPositionEmbeddings: Int
    public var hiddenAct: Activation
    /// LSG attention settings as the model runs with them; nil for the original full-attention model.
    public var lsg: LSGConfig?
    /// Whether the MLM decoder reuses the word embeddings (`tie_word_embeddings`, default true).
    public var tiesWordEmbeddings: Bool
    /// The factor on the word embeddings of the encoder-decoder families (`embed_scale`: √d_model
    /// when `scale_embedding`); 1 for the others.
    public var embeddingScale: Float = 1
    /// The decoder's sizes (encoder-decoder families); nil for encoders.
    public var decoder: DecoderSizes?

    public init(
        family: ModelFamily, hiddenSize: Int, numAttentionHeads: Int, numHiddenLayers: Int,
        intermediateSize: Int, layerNormEps: Float, vocabSize: Int, typeVocabSize: Int, padTokenId: Int,
        maxPositionEmbeddings: Int, hiddenAct: Activation, lsg: LSGConfig?, tiesWordEmbeddings: Bool = true,
        embeddingSize: Int? = nil, layerGroups: LayerSharing.Groups? = nil
    ) throws(LSGError) {
        self.family = family
        self.hiddenSize = hiddenSize
        self.embeddingSize = embeddingSize ?? hiddenSize
        self.numAttentionHeads = numAttentionHeads
        self.numHiddenLayers = numHiddenLayers
        self.layerGroups = layerGroups
        self.intermediateSize = intermediateSize
        self.layerNormEps = layerNormEps
        self.vocabSize = vocabSize
        self.typeVocabSize = typeVocabSize
        self.padTokenId = padTokenId
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.hiddenAct = hiddenAct
        self.lsg = lsg
        self.tiesWordEmbeddings = tiesWordEmbeddings
        try validate()
    }

    /// The configuration of a model directory's `config.json` (see `init(modelConfig:overrides:name:)`).
    public init(model: ModelDirectory, overrides: LSGOverrides = LSGOverrides()) throws(LSGError) {
        try self.init(modelConfig: model.config, overrides: overrides, name: model.url.appendingPathComponent("config.json").path)
    }

    /// The configuration of `config.json`, with `overrides` applied to its LSG settings the way
    /// `from_pretrained(..., block_size=...)` applies them: the stored values get the reference
    /// config class's fixes (clamped global count, `pool_with_global` forced by
    /// `mask_first_token`), the overrides are set afterwards as given. `name` is used in errors.
    public init(modelConfig: ModelConfig, overrides: LSGOverrides = LSGOverrides(), name: String) throws(LSGError) {
        guard let family = modelConfig.family else {
            throw LSGError(.unsupported, "\(name): model_type '\(modelConfig.modelType)' is not one of "
                + ModelFamily.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard modelConfig.positionEmbeddingType == "absolute" else {
            throw LSGError(.unsupported, "\(name): position_embedding_type '\(modelConfig.positionEmbeddingType)' is not supported (only absolute)")
        }
        guard let activation = Activation(rawValue: modelConfig.hiddenAct) else {
            throw LSGError(.unsupported, "\(name): \(modelConfig.keys.hiddenAct) '\(modelConfig.hiddenAct)' is not supported ("
                + Activation.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        var lsg = modelConfig.lsg?.normalized
        if !overrides.isEmpty {
            guard let base = lsg else {
                throw LSGError(.invalidOption, "\(name): LSG options apply only to an LSG checkpoint, and this config is not one")
            }
            lsg = overrides.applied(to: base)
        }
        do {
            try self.init(
                family: family, hiddenSize: modelConfig.hiddenSize, numAttentionHeads: modelConfig.numAttentionHeads,
                numHiddenLayers: modelConfig.numHiddenLayers, intermediateSize: modelConfig.intermediateSize,
                layerNormEps: Float(modelConfig.layerNormEps), vocabSize: modelConfig.vocabSize,
                typeVocabSize: modelConfig.typeVocabSize, padTokenId: modelConfig.padTokenId ?? 0,
                maxPositionEmbeddings: modelConfig.maxPositionEmbeddings, hiddenAct: activation, lsg: lsg,
                tiesWordEmbeddings: modelConfig.tieWordEmbeddings, embeddingSize: modelConfig.embeddingSize,
                layerGroups: modelConfig.layerGroups)
            if let sizes = modelConfig.decoderSizes {
                let defaultScaling = family.facts.configClassDefaults["scale_embedding"]?.boolValue ?? false
                if modelConfig["scale_embedding"]?.boolValue ?? defaultScaling {
                    embeddingScale = Float(Double(hiddenSize).squareRoot())
                }
                decoder = try DecoderSizes(layers: sizes.layers, attentionHeads: sizes.attentionHeads,
                                           feedForward: sizes.feedForward, hiddenSize: hiddenSize)
            }
        } catch {
            throw LSGError(error.kind, "\(name): \(error.description)")
        }
    }

    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// Which stored layer each hidden layer runs.
    public var layerSharing: LayerSharing { LayerSharing(hiddenLayers: numHiddenLayers, groups: layerGroups) }

    /// Whether the embeddings go through a map to the hidden size (ELECTRA's `embeddings_project`
    /// when narrower, ALBERT's `embedding_hidden_mapping_in` always).
    public var projectsEmbeddings: Bool {
        family.encoderTensorNames.embeddingProjection?.isPresent(embeddingSize: embeddingSize, hiddenSize: hiddenSize) ?? false
    }

    /// The longest input the position table allows. RoBERTa-style ids run from pad+1 to pad+length;
    /// an encoder-decoder's `max_position_embeddings` counts positions only.
    public var maxInputLength: Int {
        family.positionOffset == 0 || isEncoderDecoder ? maxPositionEmbeddings : maxPositionEmbeddings - padTokenId - 1
    }

    /// Whether the model is one of the encoder-decoder families (BART, mBART, BARThez, Pegasus).
    public var isEncoderDecoder: Bool { family.facts.encoderDecoder != nil }

    /// Whether each layer normalises its sublayer's input (mBART, Pegasus) rather than its
    /// residual sum (BART and the encoder families).
    var normalizesBeforeSublayer: Bool { family.facts.encoderDecoder?.normPlacement == .beforeSublayer }

    /// Rows of the position table: an encoder-decoder's has the offset rows on top of its positions.
    var positionRows: Int { family.facts.positionRows(maxPositionEmbeddings: maxPositionEmbeddings) }

    /// The global tokens the encoder's output keeps in front (`pass_global_tokens_to_decoder`).
    public var leadingGlobalTokens: Int {
        guard isEncoderDecoder, let lsg, lsg.passGlobalTokensToDecoder else { return 0 }
        return lsg.numGlobalTokens
    }

    private func validate() throws(LSGError) {
        guard hiddenSize > 0, numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
            throw LSGError(.malformed, "hidden_size (\(hiddenSize)) must be a positive multiple of num_attention_heads (\(numAttentionHeads))")
        }
        guard numHiddenLayers >= 0, intermediateSize > 0, vocabSize > 0, typeVocabSize > 0, maxPositionEmbeddings > 0,
              embeddingSize > 0 else {
            throw LSGError(.malformed, "model sizes must be positive")
        }
        guard embeddingSize == hiddenSize || (projectsEmbeddings && family.configKeys.embeddingSize != nil) else {
            throw LSGError(.malformed, "\(family.rawValue) embeddings have the hidden size \(hiddenSize) (got embedding size \(embeddingSize))")
        }
        if let problem = layerSharing.problem { throw LSGError(.malformed, problem) }
        guard padTokenId >= 0, padTokenId < vocabSize else {
            throw LSGError(.malformed, "pad_token_id \(padTokenId) is outside the vocabulary of \(vocabSize)")
        }
        if let problem = lsg?.problems.first { throw LSGError(.invalidOption, problem) }
    }
}

/// The decoder of an encoder-decoder model: `decoder_layers`, `decoder_attention_heads`, `decoder_ffn_dim`.
public struct DecoderSizes: Sendable, Hashable {
    public let layers: Int
    public let attentionHeads: Int
    public let feedForward: Int

    public init(layers: Int, attentionHeads: Int, feedForward: Int, hiddenSize: Int) throws(LSGError) {
        guard layers >= 0, feedForward > 0, attentionHeads > 0, hiddenSize % attentionHeads == 0 else {
            throw LSGError(.malformed, "decoder sizes must be positive, d_model (\(hiddenSize)) a multiple of decoder_attention_heads (\(attentionHeads))")
        }
        self.layers = layers
        self.attentionHeads = attentionHeads
        self.feedForward = feedForward
    }
}

/// The hidden activation, by its transformers name.
public enum Activation: String, Sendable, CaseIterable {
    /// Exact GELU, `x * (1 + erf(x / sqrt 2)) / 2`.
    case gelu
    /// The tanh approximation of GELU.
    case geluNew = "gelu_new"
    case geluPytorchTanh = "gelu_pytorch_tanh"
    case relu
    case silu
}
