import Foundation
import JSON
import LSGErrors
import SafeTensors

/// A typed view of a model's `config.json`. The JSON object itself is kept (in key order), so
/// keys this type does not know survive a rewrite; the typed properties read and write it.
/// Missing keys read as the transformers defaults of the BERT-style configs.
public struct ModelConfig: Sendable, Hashable {
    /// The whole `config.json` object.
    public private(set) var json: JSONObject

    /// Checks the known keys' types; `name` is the file used in error messages.
    public init(json value: JSONValue, name: String) throws {
        guard let object = value.objectValue else {
            throw LSGError(.malformed, file: name, "config is a JSON \(value.typeName), expected an object")
        }
        json = object
        try Self.check(object, name: name)
    }

    public static func load(from url: URL) throws -> ModelConfig {
        let value: JSONValue
        value = try JSONValue.load(contentsOf: url, maxBytes: CheckpointLimits.maxConfigBytes)
        return try ModelConfig(json: value, name: url.path)
    }

    public var modelType: String {
        get { json["model_type"]?.stringValue ?? "" }
        set { json["model_type"] = .string(newValue) }
    }

    /// The family of `model_type`, nil when the converter does not support it.
    public var family: ModelFamily? { ModelFamily(modelType: modelType, tokenizerClass: json["tokenizer_class"]?.stringValue) }

    /// `architectures`; a bare string (accepted by transformers) reads as one element.
    public var architectures: [String]? {
        get {
            switch json["architectures"] {
            case .string(let name)?: return [name]
            case .array(let names)?: return names.compactMap(\.stringValue)
            default: return nil
            }
        }
        set { json["architectures"] = newValue.map { .array($0.map(JSONValue.string)) } }
    }

    public var vocabSize: Int {
        get { json["vocab_size"]?.intValue ?? 30522 }
        set { json["vocab_size"] = .int(newValue) }
    }
    /// The key names (and defaults) of the sizes in this family's config class.
    public var keys: ConfigKeys { family?.configKeys ?? .bertStyle }

    public var hiddenSize: Int {
        get { json[keys.hiddenSize.name]?.intValue ?? keys.hiddenSize.defaultValue }
        set { json[keys.hiddenSize.name] = .int(newValue) }
    }
    public var numHiddenLayers: Int {
        get { json[keys.numHiddenLayers.name]?.intValue ?? keys.numHiddenLayers.defaultValue }
        set { json[keys.numHiddenLayers.name] = .int(newValue) }
    }
    public var numAttentionHeads: Int {
        get { json[keys.numAttentionHeads.name]?.intValue ?? keys.numAttentionHeads.defaultValue }
        set { json[keys.numAttentionHeads.name] = .int(newValue) }
    }
    public var intermediateSize: Int {
        get { json[keys.intermediateSize.name]?.intValue ?? keys.intermediateSize.defaultValue }
        set { json[keys.intermediateSize.name] = .int(newValue) }
    }
    public var hiddenAct: String {
        get { json[keys.hiddenAct]?.stringValue ?? family?.facts.configClassDefaults[keys.hiddenAct]?.stringValue ?? "gelu" }
        set { json[keys.hiddenAct] = .string(newValue) }
    }
    /// The LayerNorm epsilon; families whose config has no such key use a fixed 1e-12
    /// (DistilBERT), so setting it there has no effect.
    public var layerNormEps: Double {
        get { keys.layerNormEps.flatMap { json[$0]?.doubleValue } ?? keys.defaultLayerNormEps }
        set { if let key = keys.layerNormEps { json[key] = .double(newValue) } }
    }
    public var maxPositionEmbeddings: Int {
        get { json["max_position_embeddings"]?.intValue ?? 512 }
        set { json["max_position_embeddings"] = .int(newValue) }
    }
    public var typeVocabSize: Int {
        get { json["type_vocab_size"]?.intValue ?? 2 }
        set { json["type_vocab_size"] = .int(newValue) }
    }
    public var padTokenId: Int? {
        get { json["pad_token_id"]?.intValue }
        set { json["pad_token_id"] = newValue.map(JSONValue.int) ?? .null }
    }
    public var bosTokenId: Int? {
        get { json["bos_token_id"]?.intValue }
        set { json["bos_token_id"] = newValue.map(JSONValue.int) ?? .null }
    }
    public var eosTokenId: Int? {
        get { json["eos_token_id"]?.intValue }
        set { json["eos_token_id"] = newValue.map(JSONValue.int) ?? .null }
    }
    /// The encoder-decoder families' first decoder token (mBART has none).
    public var decoderStartTokenId: Int? {
        get { json["decoder_start_token_id"]?.intValue }
        set { json["decoder_start_token_id"] = newValue.map(JSONValue.int) ?? .null }
    }
    public var positionEmbeddingType: String {
        get { json["position_embedding_type"]?.stringValue ?? "absolute" }
        set { json["position_embedding_type"] = .string(newValue) }
    }
    /// Whether the output embeddings share the word-embedding matrix (transformers default: yes).
    public var tieWordEmbeddings: Bool {
        get { json["tie_word_embeddings"]?.boolValue ?? true }
        set { json["tie_word_embeddings"] = .bool(newValue) }
    }

    /// Whether the model has a decoder (an encoder-decoder family).
    public var hasDecoder: Bool { family?.facts.encoderDecoder != nil }

    /// Whether the config describes an LSG model: `base_model_prefix` is "lsg" or the first
    /// architecture is an LSG class (the reference's test).
    public var isLSG: Bool {
        json["base_model_prefix"]?.stringValue == "lsg" || (architectures?.first?.contains("LSG") ?? false)
    }

    /// The LSG settings: present for LSG configs (missing keys take the reference's defaults).
    /// Setting writes every LSG key; setting nil removes them.
    public var lsg: LSGConfig? {
        get { isLSG ? LSGConfig(reading: json, hasDecoder: hasDecoder) : nil }
        set {
            if var newValue {
                newValue.hasDecoder = hasDecoder
                newValue.write(into: &json)
            } else {
                for key in LSGConfig.keys { json[key] = nil }
            }
        }
    }

    /// Sets or removes (nil) any key, for settings without a typed property.
    public subscript(key: String) -> JSONValue? {
        get { json[key] }
        set { json[key] = newValue }
    }

    private static func check(_ object: JSONObject, name: String) throws {
        func expect(_ key: String, _ test: (JSONValue) -> Bool, _ what: String) throws {
            guard let value = object[key], value != .null else { return }
            guard test(value) else {
                throw LSGError(.malformed, file: name, "\"\(key)\" is a JSON \(value.typeName), expected \(what)")
            }
        }
        let isInt: (JSONValue) -> Bool = { $0.intValue != nil }
        let isPositiveInt: (JSONValue) -> Bool = { ($0.intValue ?? 0) > 0 }
        let isString: (JSONValue) -> Bool = { $0.stringValue != nil }
        try expect("model_type", isString, "a string")
        for key in ["vocab_size", "max_position_embeddings", "type_vocab_size"] + ConfigKeys.allSizeKeys {
            try expect(key, isPositiveInt, "a positive integer")
        }
        for key in ["pad_token_id", "bos_token_id", "eos_token_id"] { try expect(key, isInt, "an integer") }
        for key in ConfigKeys.allActivationKeys { try expect(key, isString, "a string") }
        try expect("position_embedding_type", isString, "a string")
        try expect("layer_norm_eps", { $0.doubleValue != nil }, "a number")
        try expect("tie_word_embeddings", { $0.boolValue != nil }, "a boolean")
        try expect("architectures", { value in
            value.stringValue != nil || (value.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false)
        }, "a list of class names")
        try LSGConfig.check(object, name: name)
    }
}

/// The config.json key names of a family's sizes, with the defaults of its config class.
public struct ConfigKeys: Sendable, Hashable {
    public struct SizeKey: Sendable, Hashable {
        public let name: String
        public let defaultValue: Int
        init(_ name: String, default defaultValue: Int) {
            self.name = name
            self.defaultValue = defaultValue
        }
    }

    public let hiddenSize: SizeKey
    public let numHiddenLayers: SizeKey
    public let numAttentionHeads: SizeKey
    public let intermediateSize: SizeKey
    public let hiddenAct: String
    /// nil when the config has no epsilon (`defaultLayerNormEps` applies).
    public let layerNormEps: String?
    /// The LayerNorms' epsilon when the config has no key for it: DistilBERT's 1e-12, the
    /// encoder-decoder families' `nn.LayerNorm` default 1e-5.
    public var defaultLayerNormEps = 1e-12
    /// The standard deviation of new weights (`init_std` in BART and its copies).
    public var initializerRange = "initializer_range"
    /// The width of the embeddings when it may differ from the hidden size (ELECTRA); nil when
    /// the embeddings have the hidden size.
    public let embeddingSize: SizeKey?
    /// The number of layer groups and of layers in each (ALBERT's `num_hidden_groups` and
    /// `inner_group_num`); nil when every hidden layer has its own weights.
    public let layerGroups: LayerGroupKeys?

    public struct LayerGroupKeys: Sendable, Hashable {
        public let groups: SizeKey
        public let layersPerGroup: SizeKey
    }

    init(hiddenSize: SizeKey, numHiddenLayers: SizeKey, numAttentionHeads: SizeKey, intermediateSize: SizeKey,
         hiddenAct: String, layerNormEps: String?, embeddingSize: SizeKey? = nil,
         layerGroups: LayerGroupKeys? = nil) {
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
        self.embeddingSize = embeddingSize
        self.layerGroups = layerGroups
    }

    /// `BertConfig` and the configs copied from it (RoBERTa, CamemBERT, XLM-R).
    static let bertStyle = ConfigKeys(
        hiddenSize: .init("hidden_size", default: 768), numHiddenLayers: .init("num_hidden_layers", default: 12),
        numAttentionHeads: .init("num_attention_heads", default: 12),
        intermediateSize: .init("intermediate_size", default: 3072), hiddenAct: "hidden_act", layerNormEps: "layer_norm_eps")

    static var allFamilies: [ConfigKeys] { ModelFamily.allCases.map(\.configKeys) }
    /// Every size key of every family: checked in any config.
    static var allSizeKeys: [String] {
        let sizes = allFamilies.flatMap {
            [$0.hiddenSize.name, $0.numHiddenLayers.name, $0.numAttentionHeads.name, $0.intermediateSize.name]
                + ($0.embeddingSize.map { [$0.name] } ?? [])
                + ($0.layerGroups.map { [$0.groups.name, $0.layersPerGroup.name] } ?? [])
        }
        return Array(Set(sizes)).sorted()
    }
    static var allActivationKeys: [String] { Array(Set(allFamilies.map(\.hiddenAct))).sorted() }
}

extension ModelConfig {
    /// The width of the embeddings and the global table: ELECTRA's `embedding_size`, the
    /// hidden size for every other family.
    public var embeddingSize: Int {
        get { keys.embeddingSize.map { self[$0.name]?.intValue ?? $0.defaultValue } ?? hiddenSize }
        set {
            if let key = keys.embeddingSize { self[key.name] = .int(newValue) } else { hiddenSize = newValue }
        }
    }

    /// Whether the encoder maps its embeddings to the hidden size (ELECTRA's `embeddings_project`
    /// when the sizes differ, ALBERT's `embedding_hidden_mapping_in` always).
    public var projectsEmbeddings: Bool {
        guard keys.embeddingSize != nil, let projection = family?.encoderTensorNames.embeddingProjection else { return false }
        return projection.isPresent(embeddingSize: embeddingSize, hiddenSize: hiddenSize)
    }

    /// Which stored layer each hidden layer runs (ALBERT's layer groups; one layer each otherwise).
    public var layerSharing: LayerSharing {
        var sharing = LayerSharing(hiddenLayers: numHiddenLayers, groups: layerGroups)
        sharing.decoderLayers = decoderSizes?.layers
        return sharing
    }

    /// The decoder's layers, attention heads and feed-forward width (encoder-decoder families).
    public var decoderSizes: (layers: Int, attentionHeads: Int, feedForward: Int)? {
        guard let keys = family?.facts.encoderDecoder?.decoderKeys else { return nil }
        func size(_ key: ConfigKeys.SizeKey) -> Int { self[key.name]?.intValue ?? key.defaultValue }
        return (size(keys.layers), size(keys.attentionHeads), size(keys.feedForward))
    }

    /// ALBERT's layer groups; nil for families whose layers each have their own weights.
    public var layerGroups: LayerSharing.Groups? {
        keys.layerGroups.map { keys in
            LayerSharing.Groups(count: self[keys.groups.name]?.intValue ?? keys.groups.defaultValue,
                                layersPerGroup: self[keys.layersPerGroup.name]?.intValue ?? keys.layersPerGroup.defaultValue)
        }
    }
}
