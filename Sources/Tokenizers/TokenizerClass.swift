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

    /// The additional special tokens the class's constructor declares by default.
    var defaultAdditionalTokens: [String] {
        self == .camembert ? ["<s>NOTUSED", "</s>NOTUSED", "<unk>NOTUSED"] : []
    }

    /// The vocabulary files of the slow tokenizer, from which the fast one is converted when
    /// there is no tokenizer.json; nil for the classes whose conversion this port does not do
    /// (mBART's language codes, BARThez's and Pegasus' sentencepiece layouts).
    var slowVocabulary: SlowVocabulary? {
        switch self {
        case .camembert: .sentencePiece(.camembert)
        case .xlmRoberta: .sentencePiece(.xlmRoberta)
        case .albert: .sentencePiece(.albert)
        case .roberta, .bart: .byteLevelBPE
        case .bert, .distilbert, .electra: .wordPiece
        case .mbart, .barthez, .pegasus: nil
        }
    }

    /// The slow vocabulary, or the error transformers would not give but this port does.
    func requireSlowVocabulary(in files: TokenizerDirectory) throws(LSGError) -> SlowVocabulary {
        guard let slowVocabulary else {
            throw LSGError(.missingFile, file: files.path(of: "tokenizer.json"), "is missing: building a \(rawValue) from its sentencepiece file is not supported here (transformers can); save the tokenizer with tokenizer.json")
        }
        return slowVocabulary
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
