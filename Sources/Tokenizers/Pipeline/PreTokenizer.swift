import JSON
import LSGErrors

/// One piece of a text between pre-tokenization steps (`tokenizers`' `Split`): its normalized
/// scalars, or an added token already recognized, which no later step touches.
struct TextPiece: Sendable {
    var text: NormalizedText
    var addedTokenIndex: Int?
}

/// A `tokenizers` pre-tokenizer (tokenizer.json `pre_tokenizer`).
indirect enum PreTokenizer: Sendable {
    enum PrependScheme: String, Sendable { case always, first, never }

    case bert
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case metaspace(replacement: Unicode.Scalar, addPrefixSpace: Bool, prependScheme: PrependScheme, split: Bool)
    case whitespace
    case whitespaceSplit
    case split(TextPattern, SplitBehavior)
    case punctuation(SplitBehavior)
    case digits(individual: Bool)
    case sequence([PreTokenizer])

    init(json value: JSONValue, path: String) throws(LSGError) {
        let fields = try ComponentFields(value, kind: "pre_tokenizer", path: path)
        switch fields.type {
        case "BertPreTokenizer": self = .bert
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try fields.bool("add_prefix_space", default: true), useRegex: try fields.bool("use_regex", default: true))
        case "Metaspace": self = try Self.metaspace(fields)
        case "Whitespace": self = .whitespace
        case "WhitespaceSplit": self = .whitespaceSplit
        case "Split":
            let pattern = try fields.pattern("pattern")
            self = .split(try fields.bool("invert", default: false) ? .inverted(pattern) : pattern, try Self.behavior(fields))
        case "Punctuation": self = .punctuation(try Self.behavior(fields, default: .isolated))
        case "Digits": self = .digits(individual: try fields.bool("individual_digits", default: false))
        case "Sequence":
            var steps: [PreTokenizer] = []
            for element in try fields.array("pretokenizers") { steps.append(try PreTokenizer(json: element, path: path)) }
            self = .sequence(steps)
        default: throw fields.unknownType()
        }
    }

    private static func metaspace(_ fields: ComponentFields) throws(LSGError) -> PreTokenizer {
        let schemeName = try fields.optionalString("prepend_scheme")
        let scheme: PrependScheme
        if let schemeName {
            guard let parsed = PrependScheme(rawValue: schemeName) else {
                throw LSGError(.malformed, file: fields.path, "\(fields.context) prepend_scheme '\(schemeName)' is not always, first or never")
            }
            scheme = parsed
        } else {
            scheme = .always
        }
        return .metaspace(replacement: try fields.scalar("replacement"),
                          addPrefixSpace: try fields.bool("add_prefix_space", default: scheme != .never),
                          prependScheme: scheme, split: try fields.bool("split", default: true))
    }

    private static func behavior(_ fields: ComponentFields, default fallback: SplitBehavior? = nil) throws(LSGError) -> SplitBehavior {
        guard let value = fields.object["behavior"] else {
            if let fallback { return fallback }
            throw LSGError(.malformed, file: fields.path, "\(fields.context) has no \"behavior\"")
        }
        guard let name = value.stringValue, let behavior = SplitBehavior(rawValue: name) else {
            throw LSGError(.malformed, file: fields.path, "\(fields.context) behavior \(value.compactString()) is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous")
        }
        return behavior
    }

    private static let gpt2 = TextPattern.regex(RegexPattern(RegexPattern.gpt2Source)!)
    /// What the Whitespace pre-tokenizer keeps: the matches of `\w+|[^\w\s]+`.
    private static let wordsOrSymbols = TextPattern.inverted(.regex(RegexPattern(RegexPattern.wordsOrSymbolsSource)!))

    func preTokenize(_ pieces: inout [TextPiece]) {
        switch self {
        case .bert:
            Self.split(&pieces) { $0.split(.scalarClass(ScalarClass.isWhitespace), behavior: .removed) }
            Self.split(&pieces) { $0.split(.scalarClass(ScalarClass.isBertPunctuation), behavior: .isolated) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            Self.split(&pieces) { text in
                var text = text
                if addPrefixSpace && text.scalars.first != " " { text.prepend([" "]) }
                return useRegex ? text.split(Self.gpt2, behavior: .isolated) : [text]
            }
            for index in pieces.indices where pieces[index].addedTokenIndex == nil {
                ByteLevelAlphabet.encode(&pieces[index].text)
            }
        case .metaspace(let replacement, let addPrefixSpace, let scheme, let split):
            // "first" is the first piece with text: one that normalization emptied (spaces
            // before an added token, stripped) does not count, as in `tokenizers`.
            var firstPiece = true
            Self.split(&pieces) { text in
                guard !text.scalars.isEmpty else { return [] }
                var text = text
                text.replace(.scalar(" "), with: [replacement])
                if addPrefixSpace && text.scalars.first != replacement {
                    if scheme == .always || (scheme == .first && firstPiece) { text.prepend([replacement]) }
                }
                firstPiece = false
                return split ? text.split(.scalar(replacement), behavior: .mergedWithNext) : [text]
            }
        case .whitespace:
            Self.split(&pieces) { $0.split(Self.wordsOrSymbols, behavior: .removed) }
        case .whitespaceSplit:
            Self.split(&pieces) { $0.split(.scalarClass(ScalarClass.isWhitespace), behavior: .removed) }
        case .split(let pattern, let behavior):
            Self.split(&pieces) { $0.split(pattern, behavior: behavior) }
        case .punctuation(let behavior):
            Self.split(&pieces) { $0.split(.scalarClass(ScalarClass.isBertPunctuation), behavior: behavior) }
        case .digits(let individual):
            Self.split(&pieces) { $0.split(.scalarClass(ScalarClass.isNumber), behavior: individual ? .isolated : .contiguous) }
        case .sequence(let steps):
            for step in steps { step.preTokenize(&pieces) }
        }
    }

    /// `PreTokenizedString::split`: every piece that is not an added token replaced by what
    /// `body` cuts it into, empty pieces dropped.
    private static func split(_ pieces: inout [TextPiece], _ body: (NormalizedText) -> [NormalizedText]) {
        var result: [TextPiece] = []
        result.reserveCapacity(pieces.count * 2)
        for piece in pieces {
            if piece.addedTokenIndex != nil {
                result.append(piece)
                continue
            }
            for text in body(piece.text) where !text.isEmpty { result.append(TextPiece(text: text, addedTokenIndex: nil)) }
        }
        pieces = result
    }
}
