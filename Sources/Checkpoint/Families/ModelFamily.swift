/// The families the converter supports: encoders, then encoder-decoders. Each family's facts live in its
/// `FamilyDescription` (one file per family); `facts` is the registry.
public enum ModelFamily: String, Sendable, CaseIterable, Codable {
    case camembert
    case roberta
    case xlmRoberta = "xlm-roberta"
    case bert
    case distilbert
    case electra
    case albert
    case bart
    case mbart
    case barthez
    case pegasus

    /// The family's description.
    public var facts: FamilyDescription {
        switch self {
        case .camembert: return .camembert
        case .roberta: return .roberta
        case .xlmRoberta: return .xlmRoberta
        case .bert: return .bert
        case .distilbert: return .distilBERT
        case .electra: return .electra
        case .albert: return .albert
        case .bart: return .bart
        case .mbart: return .mbart
        case .barthez: return .barthez
        case .pegasus: return .pegasus
        }
    }

    /// The family for a `config.json` `model_type` and `tokenizer_class`, or nil when
    /// unsupported: an mBART with a BARThez tokenizer is BARThez.
    public init?(modelType: String, tokenizerClass: String? = nil) {
        if modelType == "mbart", tokenizerClass?.hasPrefix("Barthez") == true {
            self = .barthez
        } else {
            self.init(rawValue: modelType)
        }
    }

    /// `config.json`'s `model_type` for the family.
    public var modelType: String { facts.modelType ?? rawValue }

    /// Rows at the start of the position table that are not positions (RoBERTa-style models
    /// count positions from `padding_idx + 1`). They are kept as they are when tiling.
    public var positionOffset: Int { facts.positionOffset }

    /// The attribute holding the encoder in task-head classes; their weights are stored
    /// under `<basePrefix>.` while the base model class stores them at the root.
    public var basePrefix: String { facts.basePrefix }

    /// Whether the embeddings have a token-type table (DistilBERT has none).
    public var hasTokenTypes: Bool { facts.encoderTensorNames.tokenTypeEmbeddings != nil }

    /// Whether the reference adds token-type row 0 to every global row (its `use_token_ids`).
    public var addsTokenTypeToGlobalRows: Bool { facts.addsTokenTypeToGlobalRows }

    /// Tensor names of the embeddings and layers, relative to the encoder prefix.
    public var encoderTensorNames: EncoderTensorNames { facts.encoderTensorNames }

    /// The class-name stem used by transformers (`CamembertForMaskedLM`, `XLMRobertaModel`).
    public var classStem: String { facts.classStem }

    /// The remote-code module the LSG classes live in, as named in `auto_map`.
    public var lsgModule: String { facts.lsgModule }

    /// The key names of the family's config class.
    public var configKeys: ConfigKeys { facts.configKeys }

    /// Every architecture the family converts, base model first.
    public var architectures: [Architecture] {
        Architecture.Head.allCases.filter { facts.heads[$0] != nil }.map { Architecture(family: self, head: $0) }
    }

    /// The architecture used when neither the option nor `config.json` names one.
    public var defaultArchitecture: Architecture { Architecture(family: self, head: facts.defaultHead) }

    /// The architecture for a class name, with or without the `LSG` prefix.
    public func architecture(named name: String) -> Architecture? {
        let plain = name.hasPrefix("LSG") ? String(name.dropFirst(3)) : name
        return architectures.first { $0.className == plain }
    }

    /// `auto_map` of the LSG config: which remote class each transformers Auto class loads.
    public var autoMap: [(autoClass: String, lsgClass: String)] {
        var entries: [(String, String)] = [("AutoConfig", "\(lsgModule).LSG\(classStem)Config")]
        for architecture in architectures {
            entries.append((architecture.head.autoClass, "\(lsgModule).\(architecture.lsgClassName)"))
        }
        return entries.sorted { $0.0 < $1.0 }
    }
}
