import LSGErrors

/// The transformers fast tokenizer classes of the supported families (transformers 4.36.2).
public enum TokenizerClass: String, CaseIterable, Sendable, Hashable {
    case camembert = "CamembertTokenizerFast"
    case roberta = "RobertaTokenizerFast"
    case xlmRoberta = "XLMRobertaTokenizerFast"
    case bert = "BertTokenizerFast"
    case distilbert = "DistilBertTokenizerFast"
    case electra = "ElectraTokenizerFast"
    case albert = "AlbertTokenizerFast"
    case bart = "BartTokenizerFast"
    case mbart = "MBartTokenizerFast"
    case barthez = "BarthezTokenizerFast"
    case pegasus = "PegasusTokenizerFast"

    /// A class named as tokenizer_config.json or config.json name it: the slow name
    /// (`CamembertTokenizer`, for which AutoTokenizer picks the fast class) or the fast one.
    public init?(className: String) {
        let fast = className.hasSuffix("Fast") ? className : className + "Fast"
        self.init(rawValue: fast)
    }

    /// The class AutoTokenizer maps a config.json `model_type` to.
    public init?(modelType: String) {
        switch modelType {
        case "camembert": self = .camembert
        case "roberta": self = .roberta
        case "xlm-roberta": self = .xlmRoberta
        case "bert": self = .bert
        case "distilbert": self = .distilbert
        case "electra": self = .electra
        case "albert": self = .albert
        case "bart": self = .bart
        case "mbart": self = .mbart
        case "pegasus": self = .pegasus
        default: return nil
        }
    }

    /// The class `AutoTokenizer.from_pretrained` instantiates: the one tokenizer_config.json names
    /// (`tokenizer_class`), else the one config.json names, else the one of the model type. Nil
    /// when nothing names a class and the model type has none here; a named class that is not
    /// one of these is an error (transformers would load a tokenizer this port does not know).
    static func resolve(tokenizerConfigClass: String?, modelConfigClass: String?, modelType: String?,
                        configPath: String) throws(LSGError) -> TokenizerClass? {
        if let name = tokenizerConfigClass ?? modelConfigClass {
            guard let named = TokenizerClass(className: name) else {
                let file = tokenizerConfigClass != nil ? configPath : "config.json"
                throw LSGError(.unsupported, file: file, "tokenizer_class \(name) is not one of the supported tokenizers ("
                                     + allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            return named
        }
        return modelType.flatMap(TokenizerClass.init(modelType:))
    }

    /// The special tokens the class's constructor declares when no file names them.
    var defaultTokens: [SpecialTokenRole: String] {
        switch self {
        case .camembert, .roberta, .xlmRoberta, .bart, .mbart, .barthez:
            [.bos: "<s>", .eos: "</s>", .sep: "</s>", .cls: "<s>", .unk: "<unk>", .pad: "<pad>", .mask: "<mask>"]
        case .pegasus:
            [.eos: "</s>", .unk: "<unk>", .pad: "<pad>", .mask: "<mask_2>"]
        case .bert, .distilbert, .electra:
            [.unk: "[UNK]", .sep: "[SEP]", .pad: "[PAD]", .cls: "[CLS]", .mask: "[MASK]"]
        case .albert:
            [.bos: "[CLS]", .eos: "[SEP]", .sep: "[SEP]", .cls: "[CLS]", .unk: "<unk>", .pad: "<pad>", .mask: "[MASK]"]
        }
    }

    /// The additional special tokens the class's constructor declares by default, before any
    /// file names some (nil: none, or, for mBART and Pegasus, those `additionalSpecialTokens` adds).
    var defaultAdditionalTokens: [String]? {
        self == .camembert ? ["<s>NOTUSED", "</s>NOTUSED", "<unk>NOTUSED"] : nil
    }

    /// The additional special tokens the class's constructor makes of the list it is given (nil
    /// when absent or null): MBartTokenizerFast puts the 25 language codes first;
    /// PegasusTokenizer(Fast) puts `mask_token_sent` first and fills with `<unk_i>` tokens up
    /// to the offset.
    func additionalSpecialTokens(_ given: [String]?, pegasus: PegasusOptions) -> [String] {
        switch self {
        case .mbart:
            let codes = SentencePieceConverter.fairseqLanguageCodes
            return codes + (given ?? []).filter { !codes.contains($0) }
        case .pegasus:
            guard let given else {
                return [pegasus.maskTokenSent].compactMap { $0 } + (2..<max(2, pegasus.offset)).map { "<unk_\($0)>" }
            }
            var extended = given
            if let sent = pegasus.maskTokenSent, !given.contains(sent) { extended.insert(sent, at: 0) }
            if extended.count < pegasus.offset - 1 { extended += (extended.count..<(pegasus.offset - 1)).map { "<unk_\($0)>" } }
            return extended
        default:
            return given ?? []
        }
    }

    /// The converter of the slow tokenizer's files, from which the fast one is built when there
    /// is no tokenizer.json; `declared` are the special tokens the constructor is given.
    func slowVocabulary(declared: [SpecialTokenRole: String], pegasus: PegasusOptions, path: String) throws(LSGError) -> SlowVocabulary {
        switch self {
        case .camembert: return .sentencePiece(.camembert)
        case .xlmRoberta: return .sentencePiece(.xlmRoberta)
        case .albert: return .sentencePiece(.albert)
        case .barthez: return .sentencePiece(.barthez)
        case .mbart: return .sentencePiece(.mbart)
        case .pegasus:
            guard let pad = declared[.pad], let eos = declared[.eos] else {
                throw LSGError(.unsupported, file: path, "unsets the pad or eos token, without which transformers' PegasusConverter cannot build the vocabulary")
            }
            return .sentencePiece(.pegasus(PegasusLayout(
                pad: pad, eos: eos, maskTokenSent: pegasus.maskTokenSent,
                maskBelowOffset: pegasus.maskTokenSent != nil && pegasus.offset > 3 ? declared[.mask] : nil, offset: pegasus.offset)))
        case .roberta, .bart: return .byteLevelBPE
        case .bert, .distilbert, .electra: return .wordPiece
        }
    }

    /// Whether the class declares its mask token with `lstrip` (every class here but the BERT
    /// ones and Pegasus').
    var masksStripLeft: Bool {
        switch self {
        case .bert, .distilbert, .electra, .pegasus: false
        default: true
        }
    }
}

/// How a slow tokenizer stores its vocabulary.
enum SlowVocabulary {
    /// `sentencepiece.bpe.model`, converted with the family's converter.
    case sentencePiece(SentencePieceConverter)
    /// `vocab.json` and `merges.txt`.
    case byteLevelBPE
    /// `vocab.txt`.
    case wordPiece

    var fileNames: [String] {
        switch self {
        case .sentencePiece(let converter): [converter.fileName]
        case .byteLevelBPE: ["vocab.json", "merges.txt"]
        case .wordPiece: ["vocab.txt"]
        }
    }
}

/// PegasusTokenizer(Fast)'s `offset` (default 103: the ids before the model's pieces) and
/// `mask_token_sent` (default `<mask_1>`; null for none), from tokenizer_config.json.
struct PegasusOptions: Sendable, Equatable {
    var offset = 103
    var maskTokenSent: String? = "<mask_1>"

    init(config: TokenizerConfigFile?) {
        if let offset = config?.offset { self.offset = offset }
        switch config?.maskTokenSent {
        case nil: break
        case .unset?: maskTokenSent = nil
        case .value(let token)?: maskTokenSent = token
        }
    }
}
