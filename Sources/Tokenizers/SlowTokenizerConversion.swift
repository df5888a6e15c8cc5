import JSON
import LSGErrors

/// The tokenizer.json transformers 4.36.2's `convert_slow_tokenizer` builds from a slow
/// tokenizer's files when there is no tokenizer.json: BertConverter (vocab.txt),
/// RobertaConverter (vocab.json + merges.txt), CamembertConverter and XLMRobertaConverter
/// (sentencepiece.bpe.model), AlbertConverter (spiece.model); Unigram sentencepiece models only.
enum SlowTokenizerConversion {
    static func tokenizerJSON(files: TokenizerDirectory, tokenizerClass: TokenizerClass, specialTokens: SpecialTokens,
                              settings: TransformersSettings) throws(LSGError) -> JSONValue {
        let kind = try tokenizerClass.requireSlowVocabulary(in: files)
        for name in kind.fileNames where !files.contains(name) {
            throw LSGError(.missingFile, file: files.path(of: name), "is missing: with no tokenizer.json, transformers builds the tokenizer from \(kind.fileNames.joined(separator: " and ")), and cannot without it")
        }
        func special(_ role: SpecialTokenRole) throws(LSGError) -> (String, Int) {
            guard let token = specialTokens.tokens[role], let id = token.id else {
                throw LSGError(.malformed, file: files.url.path, "has no \(role.key) with an id, which transformers' converter needs")
            }
            return (token.content, id)
        }
        switch kind {
        case .wordPiece:
            let lines = ModelVocabulary.vocabTxtLines(try files.text("vocab.txt"))
            let (cls, sep) = (try special(.cls), try special(.sep))
            return object([
                ("normalizer", object([("type", "BertNormalizer"), ("clean_text", true), ("handle_chinese_chars", .bool(settings.tokenizeChineseChars)),
                                      ("strip_accents", settings.stripAccents.map(JSONValue.bool) ?? .null), ("lowercase", .bool(settings.doLowerCase))])),
                ("pre_tokenizer", object([("type", "BertPreTokenizer")])),
                ("post_processor", template(single: [.special(cls.0, 0), .sequence("A", 0), .special(sep.0, 0)],
                                            pair: [.special(cls.0, 0), .sequence("A", 0), .special(sep.0, 0), .sequence("B", 1), .special(sep.0, 1)],
                                            tokens: [cls, sep])),
                ("decoder", object([("type", "WordPiece"), ("prefix", "##"), ("cleanup", true)])),
                ("model", object([("type", "WordPiece"), ("unk_token", .string(try special(.unk).0)), ("continuing_subword_prefix", "##"),
                                  ("max_input_chars_per_word", .int(100)),
                                  ("vocab", .object(JSONObject(lines.enumerated().map { ($1, JSONValue.int($0)) })))])),
            ])
        case .byteLevelBPE:
            let vocabulary = try files.jsonObject("vocab.json")
            let merges = mergesTxt(try files.text("merges.txt"))
            let (cls, sep) = (try special(.cls), try special(.sep))
            return object([
                ("pre_tokenizer", object([("type", "ByteLevel"), ("add_prefix_space", .bool(settings.addPrefixSpace)), ("trim_offsets", true), ("use_regex", true)])),
                ("post_processor", object([("type", "RobertaProcessing"), ("sep", .array([.string(sep.0), .int(sep.1)])),
                                           ("cls", .array([.string(cls.0), .int(cls.1)])), ("trim_offsets", true),
                                           ("add_prefix_space", .bool(settings.addPrefixSpace))])),
                ("decoder", object([("type", "ByteLevel")])),
                ("model", object([("type", "BPE"), ("vocab", .object(vocabulary)),
                                  ("merges", .array(merges.map { .string($0.0 + " " + $0.1) }))])),
            ])
        case .sentencePiece(let converter):
            let path = files.path(of: converter.fileName)
            let model = try SentencePieceModel(try files.contents(of: converter.fileName), path: path)
            guard model.modelType == .unigram else {
                throw LSGError(.unsupported, file: path, "is not a Unigram sentencepiece model; converting other models is not supported")
            }
            return converter == .albert
                ? try albert(model, settings: settings, special: special)
                : try robertaStyle(model, converter: converter)
        }
    }

    /// CamembertConverter and XLMRobertaConverter: fixed leading tokens, `<mask>` appended, `<s> A </s></s> B </s>`.
    private static func robertaStyle(_ model: SentencePieceModel, converter: SentencePieceConverter) throws(LSGError) -> JSONValue {
        let leadingScores: [Double] = converter == .camembert ? [0, 0, 0, 0, -100] : [0, 0, 0, 0]
        var pieces: [JSONValue] = zip(converter.leadingTokens, leadingScores).map { .array([.string($0), .double($1)]) }
        for (piece, score) in zip(model.pieces, model.scores).dropFirst(converter.skippedPieces) {
            pieces.append(.array([.string(piece), .double(Double(score))]))
        }
        pieces.append(.array([.string("<mask>"), .double(0)]))
        var ids: [String: Int] = [:]
        for (index, piece) in pieces.enumerated() { ids[piece.arrayValue![0].stringValue!] = index }
        let special = { (token: String) -> (String, Int) in (token, ids[token] ?? 0) }
        return object([
            ("normalizer", sentencePieceNormalizer(model, before: [])),
            ("pre_tokenizer", object([("type", "Metaspace")] + metaspace)),
            ("post_processor", template(single: [.special("<s>", 0), .sequence("A", 0), .special("</s>", 0)],
                                        pair: [.special("<s>", 0), .sequence("A", 0), .special("</s>", 0), .special("</s>", 0),
                                               .sequence("B", 0), .special("</s>", 0)],
                                        tokens: [special("<s>"), special("</s>")])),
            ("decoder", object([("type", "Metaspace")] + metaspace)),
            ("model", object([("type", "Unigram"), ("unk_id", .int(3)), ("vocab", .array(pieces)), ("byte_fallback", false)])),
        ])
    }

    /// AlbertConverter: the pieces as they are (100 off the score of a piece ending in a comma
    /// after a digit), quotes normalized, accents stripped unless `keep_accents`, lowercased with
    /// `do_lower_case`, `[CLS] A [SEP] B [SEP]` with type ids.
    private static func albert(
        _ model: SentencePieceModel, settings: TransformersSettings, special: (SpecialTokenRole) throws(LSGError) -> (String, Int)
    ) throws(LSGError) -> JSONValue {
        let pieces: [JSONValue] = zip(model.pieces, model.scores).map { piece, score in
            let scalars = Array(piece.unicodeScalars)
            // Python's str.isdigit: decimal and digit numeric types.
            let digit = scalars.count >= 2 ? scalars[scalars.count - 2].properties.numericType : nil
            let numberComma = scalars.last == "," && (digit == .decimal || digit == .digit)
            return .array([.string(piece), .double(Double(score) - (numberComma ? 100 : 0))])
        }
        func replace(_ pattern: String, _ content: String) -> JSONValue {
            object([("type", "Replace"), ("pattern", object([("String", .string(pattern))])), ("content", .string(content))])
        }
        var before = [replace("``", "\""), replace("''", "\"")]
        if !settings.keepAccents { before += [object([("type", "NFKD")]), object([("type", "StripAccents")])] }
        if settings.doLowerCase { before.append(object([("type", "Lowercase")])) }
        let (cls, sep) = (try special(.cls), try special(.sep))
        return object([
            ("normalizer", sentencePieceNormalizer(model, before: before)),
            ("pre_tokenizer", object([("type", "Metaspace")] + metaspace)),
            ("post_processor", template(single: [.special(cls.0, 0), .sequence("A", 0), .special(sep.0, 0)],
                                        pair: [.special(cls.0, 0), .sequence("A", 0), .special(sep.0, 0), .sequence("B", 1), .special(sep.0, 1)],
                                        tokens: [cls, sep])),
            ("decoder", object([("type", "Metaspace")] + metaspace)),
            ("model", object([("type", "Unigram"), ("unk_id", .int(model.unknownID)), ("vocab", .array(pieces)), ("byte_fallback", false)])),
        ])
    }

    /// `before`, then the model's precompiled charsmap (when it has one), then runs of spaces made one.
    private static func sentencePieceNormalizer(_ model: SentencePieceModel, before: [JSONValue]) -> JSONValue {
        var normalizers = before
        if !model.precompiledCharsMap.isEmpty {
            normalizers.append(object([("type", "Precompiled"), ("precompiled_charsmap", .string(Base64.encode(model.precompiledCharsMap)))]))
        }
        normalizers.append(object([("type", "Replace"), ("pattern", object([("Regex", " {2,}")])), ("content", " ")]))
        return object([("type", "Sequence"), ("normalizers", .array(normalizers))])
    }

    private static let metaspace: [(String, JSONValue)] = [("replacement", "▁"), ("add_prefix_space", true), ("prepend_scheme", "always")]

    /// merges.txt as the slow RobertaTokenizer reads it: the lines between the first (the
    /// version) and the last (empty after the final newline), each split on whitespace; a
    /// repeated merge keeps its first rank.
    static func mergesTxt(_ text: String) -> [(String, String)] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().dropLast()
        var seen = Set<String>()
        var merges: [(String, String)] = []
        for line in lines {
            let parts = line.unicodeScalars.split(whereSeparator: { ScalarClass.isWhitespace($0) }).map { String(scalars: $0) }
            guard parts.count == 2, seen.insert(parts[0] + " " + parts[1]).inserted else { continue }
            merges.append((parts[0], parts[1]))
        }
        return merges
    }

    private enum TemplatePart {
        case special(String, Int)
        case sequence(String, Int)
    }

    private static func template(single: [TemplatePart], pair: [TemplatePart], tokens: [(String, Int)]) -> JSONValue {
        func pieces(_ parts: [TemplatePart]) -> JSONValue {
            .array(parts.map { part in
                switch part {
                case .special(let name, let typeID): object([("SpecialToken", object([("id", .string(name)), ("type_id", .int(typeID))]))])
                case .sequence(let name, let typeID): object([("Sequence", object([("id", .string(name)), ("type_id", .int(typeID))]))])
                }
            })
        }
        let specials = tokens.map { ($0.0, object([("id", .string($0.0)), ("ids", .array([.int($0.1)])), ("tokens", .array([.string($0.0)]))])) }
        return object([("type", "TemplateProcessing"), ("single", pieces(single)), ("pair", pieces(pair)), ("special_tokens", .object(JSONObject(specials)))])
    }

    private static func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }
}
