/// The named special tokens of a tokenizer, in transformers' order (`SPECIAL_TOKENS_ATTRIBUTES`,
/// additional tokens aside): the order in which missing special tokens are appended to the vocabulary.
public enum SpecialTokenRole: String, CaseIterable, Sendable, Hashable, Comparable {
    case bos = "bos_token"
    case eos = "eos_token"
    case unk = "unk_token"
    case sep = "sep_token"
    case pad = "pad_token"
    case cls = "cls_token"
    case mask = "mask_token"

    /// The key naming this token in tokenizer_config.json and special_tokens_map.json.
    public var key: String { rawValue }

    public static func < (lhs: SpecialTokenRole, rhs: SpecialTokenRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The key of the list of additional special tokens.
let additionalSpecialTokensKey = "additional_special_tokens"

/// Which file named a special token.
public enum TokenDeclarationSource: Hashable, Sendable, CustomStringConvertible {
    case tokenizerConfig
    case specialTokensMap
    /// The default of the tokenizer class's constructor: no file named the token.
    case classDefault(TokenizerClass)

    public var description: String {
        switch self {
        case .tokenizerConfig: "tokenizer_config.json"
        case .specialTokensMap: "special_tokens_map.json"
        case .classDefault(let tokenizerClass): "the \(tokenizerClass.rawValue) default"
        }
    }
}
