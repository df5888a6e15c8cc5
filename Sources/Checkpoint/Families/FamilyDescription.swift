import JSON

/// Everything the converter, the encoder and the tools know about one model family, in one
/// value. Each family builds its description in its own file (`CamembertFamily.swift`, ...) and
/// `ModelFamily.facts` registers it, as llama.cpp's conversion registers one class per
/// architecture; nothing else names a family's tensors, keys or classes.
public struct FamilyDescription: Sendable {
    /// The class-name stem used by transformers (`CamembertForMaskedLM`, `XLMRobertaModel`).
    public let classStem: String
    /// The attribute holding the encoder in task-head classes; their weights are stored
    /// under `<basePrefix>.` while the base model class stores them at the root.
    public let basePrefix: String
    /// The remote-code module the LSG classes live in, as named in `auto_map`.
    public let lsgModule: String
    /// Rows at the start of the position table that are not positions (RoBERTa-style models
    /// count positions from `padding_idx + 1`). They are kept as they are when tiling.
    public let positionOffset: Int
    /// The key names of the family's config class.
    public let configKeys: ConfigKeys
    /// The explicit parameters of the family's config class with their defaults in
    /// transformers 4.36.2 (what `TransformersConfig` compares against).
    public let configClassDefaults: JSONObject
    /// Keys the config class stores under another name (`attribute_map`).
    public let configAttributeMap: [String: String]
    /// Tensor names of the embeddings and layers, relative to the encoder prefix.
    public let encoderTensorNames: EncoderTensorNames
    /// The pooler's dense module, relative to the encoder prefix; nil when the family has none.
    public let pooler: String?
    /// Whether the reference adds token-type row 0 to every global row (its `use_token_ids`,
    /// which only some converters read).
    public let addsTokenTypeToGlobalRows: Bool
    /// Every class the family converts, by head.
    public let heads: [Architecture.Head: HeadDescription]
    /// The head converted when neither the option nor `config.json` names one.
    public let defaultHead: Architecture.Head
    /// The masked-LM head as the encoder runs it; nil for the encoder-decoder families, whose
    /// language-model head reads the decoder.
    public let maskedLM: MaskedLMHeadNames?
    /// A public hub repository holding the family's LSG modeling file (`lsgModule`), for
    /// transformers >= 4.36; nil when we know of none.
    public let lsgCodeRepository: String?
    /// What the model card says about the family.
    public let modelCard: ModelCardFacts
    /// The decoder and the layer layout of the encoder-decoder families; nil for encoders.
    public var encoderDecoder: EncoderDecoderFacts? = nil
    /// `config.json`'s `model_type` (BARThez is an mBART); nil when it is the family's name.
    public var modelType: String? = nil
    /// The config class's default `num_labels` (BART's is 3), which sets the default `id2label`
    /// and `label2id`.
    public var configDefaultLabelCount = 2
    /// Config keys whose default is another key's value (`num_hidden_layers` is BART's
    /// `encoder_layers` unless the file says otherwise).
    public var configDerivedDefaults: [String: String] = [:]

    /// `max_position_embeddings` of a model converted to `maxLength` tokens: an encoder's counts
    /// the offset rows, an encoder-decoder's counts positions only (its table has the offset rows
    /// on top, which the learned position module adds itself).
    public func maxPositionEmbeddings(maxLength: Int) -> Int {
        encoderDecoder == nil ? maxLength + positionOffset : maxLength
    }

    /// Rows of the position table for `max_position_embeddings` in the config.
    public func positionRows(maxPositionEmbeddings: Int) -> Int {
        encoderDecoder == nil ? maxPositionEmbeddings : maxPositionEmbeddings + positionOffset
    }

    /// `base` with `changes` applied in order (a changed key keeps its place).
    static func configDefaults(_ base: JSONObject, changing changes: JSONObject) -> JSONObject {
        JSONObject(base.map { ($0.key, $0.value) } + changes.map { ($0.key, $0.value) })
    }
}

/// What the encoder-decoder families (BART, mBART, BARThez, Pegasus) add to a description.
public struct EncoderDecoderFacts: Sendable {
    /// Where a layer normalises: BART after each sublayer's residual sum, mBART and Pegasus
    /// before each sublayer (and once more after the last layer, `finalNorm`).
    public enum NormPlacement: Sendable, Hashable {
        case afterSublayer, beforeSublayer
    }

    /// How the position tables are made: learned rows (tiled like an encoder's), or the
    /// sinusoidal table transformers computes for any length (Pegasus; the reference rebuilds it).
    public enum Positions: Sendable, Hashable {
        case learned, sinusoidal
    }

    /// The decoder's first token when the model shifts `input_ids` right into decoder inputs
    /// (its task heads): BART's `decoder_start_token_id`, or mBART's last non-pad token of the row
    /// (`shift_tokens_right` of `modeling_mbart.py`).
    public enum DecoderStart: Sendable, Hashable {
        case decoderStartToken, lastNonPadToken
    }

    public let normPlacement: NormPlacement
    public let positions: Positions
    /// The decoder's sizes in `config.json`.
    public let decoderKeys: DecoderKeys
    public var decoderStart: DecoderStart = .decoderStartToken

    public struct DecoderKeys: Sendable, Hashable {
        public let layers: ConfigKeys.SizeKey
        public let attentionHeads: ConfigKeys.SizeKey
        public let feedForward: ConfigKeys.SizeKey
    }

    /// BART's keys (`decoder_layers`, `decoder_attention_heads`, `decoder_ffn_dim`), which its copies share.
    static let bartDecoderKeys = DecoderKeys(
        layers: .init("decoder_layers", default: 12), attentionHeads: .init("decoder_attention_heads", default: 16),
        feedForward: .init("decoder_ffn_dim", default: 4096))
}

/// One class of a family: its name and the tensors it owns besides the encoder's.
public struct HeadDescription: Sendable {
    /// The transformers class name, e.g. `CamembertForMaskedLM`, `BertLMHeadModel`.
    public let className: String
    /// The head's modules in `state_dict` order, tied copies excluded.
    public let modules: [HeadModule]
    /// The output-embedding matrix tied to the word embeddings (not stored when tied).
    public let tiedDecoder: HeadModule?
    /// Head tensors that share storage with another head tensor, by stored name: a source
    /// may hold either name, transformers writes only the stored one.
    public let tiedAliases: [String: String]
    /// How the task head computes its outputs; nil for the base model and the pretraining and LM heads.
    public let computation: TaskHeadComputation?
    /// Whether the class builds the encoder with its pooler.
    public let hasPooler: Bool
    /// Buffers the class registers before its model, so that `state_dict` lists them first
    /// (BART's `final_logits_bias`).
    public var buffersBeforeModel: [HeadModule] = []
    /// Why the class is refused when the reference cannot convert it; nil when it converts.
    public var refusal: String? = nil

    init(_ className: String, modules: [HeadModule] = [], tiedDecoder: HeadModule? = nil, tiedAliases: [String: String] = [:],
         computation: TaskHeadComputation? = nil, hasPooler: Bool = false) {
        self.className = className
        self.modules = modules
        self.tiedDecoder = tiedDecoder
        self.tiedAliases = tiedAliases
        self.computation = computation
        self.hasPooler = hasPooler
    }

    /// The classes every family has in the same shape (`<stem>Model`, token classification,
    /// question answering).
    static func base(_ stem: String, hasPooler: Bool) -> HeadDescription {
        HeadDescription("\(stem)Model", hasPooler: hasPooler)
    }

    static func tokenClassification(_ stem: String) -> HeadDescription {
        HeadDescription("\(stem)ForTokenClassification", modules: [.linear("classifier", outputs: .labels)],
                        computation: TaskHeadComputation(.everyToken, [("classifier", nil)]))
    }

    static func questionAnswering(_ stem: String) -> HeadDescription {
        HeadDescription("\(stem)ForQuestionAnswering", modules: [.linear("qa_outputs", outputs: .labels)],
                        computation: TaskHeadComputation(.everyToken, [("qa_outputs", nil)], outputs: ["start_logits", "end_logits"]))
    }

    /// A class with the masked-LM head `lm` (its decoder tied to the word embeddings), its
    /// modules in `order`.
    static func languageModel(_ className: String, _ lm: MaskedLMHeadNames, order: [HeadModule]) -> HeadDescription {
        HeadDescription(className, modules: order, tiedDecoder: lm.decoderModule,
                        tiedAliases: lm.biasAlias.map { [lm.bias: $0] } ?? [:])
    }

    /// Every tensor of the head, as stored by transformers (tied copies excluded), buffers
    /// registered before the model excluded.
    public var tensors: [String] { modules.flatMap(\.tensors) }
}

/// A module of a head and the shape transformers builds it with.
public struct HeadModule: Sendable, Hashable {
    /// A size a head module takes from the config.
    public enum Width: Sendable, Hashable {
        case hidden
        /// The embeddings' width (ELECTRA's `embedding_size`, else the hidden size).
        case embedding
        case vocabulary
        /// The number of labels (`id2label`, default 2).
        case labels
        case fixed(Int)
    }

    public enum Kind: Sendable, Hashable {
        /// `.weight` `[outputs, inputs]` and `.bias` `[outputs]`.
        case linear(outputs: Width, inputs: Width)
        /// A LayerNorm: `.weight` and `.bias`.
        case norm(Width)
        /// One tensor, named in full.
        case vector(Width)
        /// One matrix, named in full.
        case matrix(rows: Width, columns: Width)
    }

    /// The module (or, for `vector` and `matrix`, the tensor) name.
    public let name: String
    public let kind: Kind
    /// Whether a conversion initialises it at random when the source lacks it, as transformers
    /// does; when false such a source is refused.
    public let initialisedWhenMissing: Bool

    static func linear(_ name: String, outputs: Width, inputs: Width = .hidden, initialisedWhenMissing: Bool = true) -> HeadModule {
        HeadModule(name: name, kind: .linear(outputs: outputs, inputs: inputs), initialisedWhenMissing: initialisedWhenMissing)
    }

    static func norm(_ name: String, _ width: Width) -> HeadModule {
        HeadModule(name: name, kind: .norm(width), initialisedWhenMissing: true)
    }

    static func vector(_ name: String, _ width: Width) -> HeadModule {
        HeadModule(name: name, kind: .vector(width), initialisedWhenMissing: true)
    }

    static func matrix(_ name: String, rows: Width, columns: Width) -> HeadModule {
        HeadModule(name: name, kind: .matrix(rows: rows, columns: columns), initialisedWhenMissing: true)
    }

    /// The module's tensors, weight before bias.
    public var tensors: [String] {
        switch kind {
        case .linear, .norm: return [name + ".weight", name + ".bias"]
        case .vector, .matrix: return [name]
        }
    }

    /// The shape of `tensor` (one of `tensors`) as the config implies it.
    public func shape(of tensor: String, config: ModelConfig) -> [Int] {
        func size(_ width: Width) -> Int {
            switch width {
            case .hidden: return config.hiddenSize
            case .embedding: return config.embeddingSize
            case .vocabulary: return config.vocabSize
            case .labels: return config["id2label"]?.objectValue?.count ?? 2
            case .fixed(let count): return count
            }
        }
        let isBias = tensor.hasSuffix(".bias")
        switch kind {
        case .linear(let outputs, let inputs): return isBias ? [size(outputs)] : [size(outputs), size(inputs)]
        case .norm(let width), .vector(let width): return [size(width)]
        case .matrix(let rows, let columns): return [size(rows), size(columns)]
        }
    }
}

/// Tensor names of a family's masked-LM head as the encoder runs it: dense → activation →
/// LayerNorm → decoder (tied to the word embeddings unless `tie_word_embeddings` is false).
public struct MaskedLMHeadNames: Sendable, Hashable {
    public enum ActivationRule: Sendable, Hashable {
        /// The model's hidden activation (`hidden_act`).
        case model
        /// Exact GELU, whatever the config says.
        case gelu
    }

    public let dense: String
    public let norm: String
    /// The decoder's weight tensor.
    public let decoder: String
    /// The decoder's stored bias.
    public let bias: String
    /// Another name a source may store the bias under (transformers ties the two).
    public let biasAlias: String?
    /// The width of dense's outputs, the LayerNorm and the decoder's columns.
    public let width: HeadModule.Width
    public let activation: ActivationRule

    /// The stored bias first, then its alias.
    public var biases: [String] { [bias] + (biasAlias.map { [$0] } ?? []) }

    var denseModule: HeadModule { .linear(dense, outputs: width) }
    var normModule: HeadModule { .norm(norm, width) }
    var biasModule: HeadModule { .vector(bias, .vocabulary) }
    var decoderModule: HeadModule { .matrix(decoder, rows: .vocabulary, columns: width) }
}

/// What a converted model's card says about its family.
public struct ModelCardFacts: Sendable {
    /// The family's name as its authors write it (`CamemBERT`, `XLM-RoBERTa`).
    public let name: String
    /// The base model's paper.
    public let citation: String
    /// The fill-mask example sentence, `{tokenizer.mask_token}` standing for the mask.
    public let fillMaskExample: String
    /// Heads that get no pipeline tag although their head would (ELECTRA's discriminator
    /// scores tokens, it fills no mask).
    public let untaggedHeads: Set<Architecture.Head>

    init(name: String, citation: String, fillMaskExample: String = "Paris is the {tokenizer.mask_token} of France.",
         untaggedHeads: Set<Architecture.Head> = []) {
        self.name = name
        self.citation = citation
        self.fillMaskExample = fillMaskExample
        self.untaggedHeads = untaggedHeads
    }
}
