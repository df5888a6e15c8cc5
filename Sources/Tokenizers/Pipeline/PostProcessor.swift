import JSON
import LSGErrors

/// A `tokenizers` post-processor (tokenizer.json `post_processor`): adds the special tokens
/// around one text or a pair, sets the type ids, and (ByteLevel, RoBERTa) trims the spaces of
/// byte-level tokens out of their offsets.
indirect enum PostProcessor: Sendable {
    enum TemplatePiece: Sendable {
        case sequence(second: Bool, typeID: Int)
        case special(String, typeID: Int)
    }

    case template(single: [TemplatePiece], pair: [TemplatePiece], specialTokens: [String: (ids: [Int], tokens: [String])])
    case roberta(sep: (String, Int), cls: (String, Int), trimOffsets: Bool, addPrefixSpace: Bool)
    case bert(sep: (String, Int), cls: (String, Int))
    case byteLevel(trimOffsets: Bool, addPrefixSpace: Bool)
    case sequence([PostProcessor])

    init(json value: JSONValue, path: String) throws(LSGError) {
        let fields = try ComponentFields(value, kind: "post_processor", path: path)
        func tokenAndID(_ key: String) throws(LSGError) -> (String, Int) {
            let pair = try fields.array(key)
            guard pair.count == 2, let token = pair[0].stringValue, let id = pair[1].intValue else {
                throw LSGError(.malformed, file: path, "\(fields.context) \"\(key)\" is not a [token, id] pair")
            }
            return (token, id)
        }
        switch fields.type {
        case "TemplateProcessing":
            var specialTokens: [String: (ids: [Int], tokens: [String])] = [:]
            if let map = fields.object["special_tokens"]?.objectValue {
                for (name, entry) in map {
                    guard let ids = entry["ids"]?.arrayValue?.compactMap(\.intValue), let tokens = entry["tokens"]?.arrayValue?.compactMap(\.stringValue),
                          ids.count == tokens.count else {
                        throw LSGError(.malformed, file: path, "\(fields.context) special_tokens[\(name)] needs lists \"ids\" and \"tokens\" of one length")
                    }
                    specialTokens[name] = (ids, tokens)
                }
            }
            let single = try Self.template(fields, "single")
            let pair = try Self.template(fields, "pair")
            for case .special(let name, _) in single + pair where specialTokens[name] == nil {
                throw LSGError(.malformed, file: path, "\(fields.context) uses special token \(name), which special_tokens does not list")
            }
            self = .template(single: single, pair: pair, specialTokens: specialTokens)
        case "RobertaProcessing":
            self = .roberta(sep: try tokenAndID("sep"), cls: try tokenAndID("cls"), trimOffsets: try fields.bool("trim_offsets", default: true),
                            addPrefixSpace: try fields.bool("add_prefix_space", default: true))
        case "BertProcessing":
            self = .bert(sep: try tokenAndID("sep"), cls: try tokenAndID("cls"))
        case "ByteLevel":
            self = .byteLevel(trimOffsets: try fields.bool("trim_offsets", default: true), addPrefixSpace: try fields.bool("add_prefix_space", default: true))
        case "Sequence":
            var processors: [PostProcessor] = []
            for element in try fields.array("processors") { processors.append(try PostProcessor(json: element, path: path)) }
            self = .sequence(processors)
        default: throw fields.unknownType()
        }
    }

    private static func template(_ fields: ComponentFields, _ key: String) throws(LSGError) -> [TemplatePiece] {
        var pieces: [TemplatePiece] = []
        for element in try fields.array(key) {
            if let sequence = element["Sequence"] {
                guard let name = sequence["id"]?.stringValue, name == "A" || name == "B" else {
                    throw LSGError(.malformed, file: fields.path, "\(fields.context) \(key) has a Sequence that is neither A nor B")
                }
                pieces.append(.sequence(second: name == "B", typeID: sequence["type_id"]?.intValue ?? 0))
            } else if let special = element["SpecialToken"], let name = special["id"]?.stringValue {
                pieces.append(.special(name, typeID: special["type_id"]?.intValue ?? 0))
            } else {
                throw LSGError(.malformed, file: fields.path, "\(fields.context) \(key) has a piece that is neither Sequence nor SpecialToken")
            }
        }
        return pieces
    }

    /// How many tokens `process` adds (`added_tokens`).
    func addedTokenCount(isPair: Bool) -> Int {
        switch self {
        case .template(let single, let pair, let specialTokens):
            return (isPair ? pair : single).reduce(0) { count, piece in
                if case .special(let name, _) = piece { count + (specialTokens[name]?.ids.count ?? 0) } else { count }
            }
        case .roberta, .bert: return isPair ? 4 - (self.isBert ? 1 : 0) : 2
        case .byteLevel: return 0
        case .sequence(let processors): return processors.reduce(0) { $0 + $1.addedTokenCount(isPair: isPair) }
        }
    }

    private var isBert: Bool { if case .bert = self { true } else { false } }

    /// The encodings (one, or two for a pair) processed; the result may still be several
    /// encodings, which the caller concatenates.
    func process(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        switch self {
        case .template(let single, let pair, let specialTokens):
            let template = encodings.count > 1 ? pair : single
            var merged = Encoding()
            for piece in template {
                switch piece {
                case .sequence(let second, let typeID):
                    let index = second ? 1 : 0
                    guard index < encodings.count else { continue }
                    var part = encodings[index]
                    part.typeIDs = Array(repeating: typeID, count: part.count)
                    merged.append(contentsOf: part)
                case .special(let name, let typeID):
                    guard addSpecialTokens, let special = specialTokens[name] else { continue }
                    for (id, token) in zip(special.ids, special.tokens) {
                        merged.append(id: id, token: token, offsets: 0..<0, typeID: typeID, special: true)
                    }
                }
            }
            return [merged]
        case .roberta(let sep, let cls, let trimOffsets, let addPrefixSpace):
            let trimmed = trimOffsets ? encodings.map { Self.trimmingOffsets($0, addPrefixSpace: addPrefixSpace) } : encodings
            guard addSpecialTokens else { return trimmed }
            var merged = Encoding()
            merged.append(id: cls.1, token: cls.0, offsets: 0..<0, typeID: 0, special: true)
            merged.append(contentsOf: trimmed[0])
            merged.append(id: sep.1, token: sep.0, offsets: 0..<0, typeID: 0, special: true)
            if trimmed.count > 1 {
                // RoBERTa has no second type: the pair's tokens keep type 0.
                merged.append(id: sep.1, token: sep.0, offsets: 0..<0, typeID: 0, special: true)
                merged.append(contentsOf: trimmed[1])
                merged.append(id: sep.1, token: sep.0, offsets: 0..<0, typeID: 0, special: true)
            }
            return [merged]
        case .bert(let sep, let cls):
            guard addSpecialTokens else { return encodings }
            var merged = Encoding()
            merged.append(id: cls.1, token: cls.0, offsets: 0..<0, typeID: 0, special: true)
            merged.append(contentsOf: encodings[0])
            merged.append(id: sep.1, token: sep.0, offsets: 0..<0, typeID: 0, special: true)
            if encodings.count > 1 {
                var second = encodings[1]
                second.typeIDs = Array(repeating: 1, count: second.count)
                merged.append(contentsOf: second)
                merged.append(id: sep.1, token: sep.0, offsets: 0..<0, typeID: 1, special: true)
            }
            return [merged]
        case .byteLevel(let trimOffsets, let addPrefixSpace):
            return trimOffsets ? encodings.map { Self.trimmingOffsets($0, addPrefixSpace: addPrefixSpace) } : encodings
        case .sequence(let processors):
            var current = encodings
            for processor in processors { current = processor.process(current, addSpecialTokens: addSpecialTokens) }
            return current
        }
    }

    /// `process_offsets`: the leading and trailing spaces (`Ġ` or whitespace) of each token
    /// taken out of its offsets, except the one space added in front of the first token.
    static func trimmingOffsets(_ encoding: Encoding, addPrefixSpace: Bool) -> Encoding {
        var encoding = encoding
        let space = ByteLevelAlphabet.scalarOfByte[32]
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == space || ScalarClass.isWhitespace(scalar) }
        for index in encoding.tokens.indices {
            let scalars = encoding.tokens[index].unicodeScalars
            var leading = scalars.prefix(while: isSpace).count
            let trailing = scalars.reversed().prefix(while: isSpace).count
            guard leading > 0 || trailing > 0 else { continue }
            var range = encoding.offsets[index]
            if leading > 0 {
                if (index == 0 || range.lowerBound == 0) && addPrefixSpace && leading == 1 { leading = 0 }
                range = min(range.lowerBound + leading, range.upperBound)..<range.upperBound
            }
            if trailing > 0 && range.upperBound >= trailing {
                range = range.lowerBound..<max(range.upperBound - trailing, range.lowerBound)
            }
            encoding.offsets[index] = range
        }
        return encoding
    }
}
