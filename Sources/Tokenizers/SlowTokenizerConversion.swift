import JSON
import LSGErrors

/// The tokenizer.json transformers 4.36.2's `convert_slow_tokenizer` builds from a slow
/// tokenizer's files when there is no tokenizer.json: BertConverter (vocab.txt),
/// RobertaConverter (vocab.json + merges.txt), CamembertConverter, XLMRobertaConverter,
/// BarthezConverter and MBartConverter (sentencepiece.bpe.model), AlbertConverter and
/// PegasusConverter (spiece.model); Unigram sentencepiece models only.
enum SlowTokenizerConversion {
    static func tokenizerJSON(files: TokenizerDirectory, tokenizerClass: TokenizerClass, specialTokens: SpecialTokens,
                              settings: TransformersSettings) throws(LSGError) -> JSONValue {
        guard let kind = specialTokens.slowVocabulary else {
            throw LSGError(.internal, file: files.url.path, "has no slow tokenizer converter for its \(tokenizerClass.rawValue)")
        }
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
            return try sentencePiece(model, converter: converter, settings: settings, specialTokens: specialTokens, special: special)
        }
    }

    /// SpmConverter and its subclasses: the converter's vocabulary and unknown id, the model's
    /// normalizer (AlbertConverter's quotes, accents and case first), Metaspace (PegasusConverter
    /// splits on whitespace first), and each converter's post-processor, its special tokens'
    /// ids as the slow tokenizer gives them.
    private static func sentencePiece(
        _ model: SentencePieceModel, converter: SentencePieceConverter, settings: TransformersSettings, specialTokens: SpecialTokens,
        special: (SpecialTokenRole) throws(LSGError) -> (String, Int)
    ) throws(LSGError) -> JSONValue {
        let vocabulary = converter.vocabulary(model)
        var ids: [String: Int] = [:]
        for (index, entry) in vocabulary.enumerated() { ids[entry.piece] = index }
        // A token missing from the vocabulary is one the slow tokenizer added past it, as the fast one does.
        let slowToken = { (token: String) -> (String, Int) in
            (token, ids[token] ?? specialTokens.tokens.values.first { $0.content == token }?.id ?? 0)
        }
        var before: [JSONValue] = []
        if converter == .albert {
            func replace(_ pattern: String, _ content: String) -> JSONValue {
                object([("type", "Replace"), ("pattern", object([("String", .string(pattern))])), ("content", .string(content))])
            }
            before = [replace("``", "\""), replace("''", "\"")]
            if !settings.keepAccents { before += [object([("type", "NFKD")]), object([("type", "StripAccents")])] }
            if settings.doLowerCase { before.append(object([("type", "Lowercase")])) }
        }
        var preTokenizer = object([("type", "Metaspace")] + metaspace)
        let postProcessor: JSONValue
        switch converter {
        case .camembert, .xlmRoberta, .barthez:
            // `<s> $A </s>` / `<s> $A </s> </s> $B </s>`.
            postProcessor = template(single: [.special("<s>", 0), .sequence("A", 0), .special("</s>", 0)],
                                     pair: [.special("<s>", 0), .sequence("A", 0), .special("</s>", 0), .special("</s>", 0),
                                            .sequence("B", 0), .special("</s>", 0)],
                                     tokens: [slowToken("<s>"), slowToken("</s>")])
        case .albert:
            let (cls, sep) = (try special(.cls), try special(.sep))
            postProcessor = template(single: [.special(cls.0, 0), .sequence("A", 0), .special(sep.0, 0)],
                                     pair: [.special(cls.0, 0), .sequence("A", 0), .special(sep.0, 0), .sequence("B", 1), .special(sep.0, 1)],
                                     tokens: [cls, sep])
        case .mbart:
            // MBartTokenizerFast replaces it with its source language's (`languagePostProcessor`).
            postProcessor = languagePostProcessor(eos: slowToken("</s>"), language: slowToken("en_XX"))
        case .pegasus(let layout):
            preTokenizer = object([("type", "Sequence"), ("pretokenizers", .array([object([("type", "WhitespaceSplit")]), preTokenizer]))])
            postProcessor = template(single: [.sequence("A", 0), .special(layout.eos, 0)],
                                     pair: [.sequence("A", 0), .sequence("B", 0), .special(layout.eos, 0)],
                                     tokens: [slowToken(layout.eos)])
        }
        return object([
            ("normalizer", sentencePieceNormalizer(model, before: before)),
            ("pre_tokenizer", preTokenizer),
            ("post_processor", postProcessor),
            ("decoder", object([("type", "Metaspace")] + metaspace)),
            ("model", object([("type", "Unigram"), ("unk_id", .int(converter.unknownID(model))),
                              ("vocab", .array(vocabulary.map { .array([.string($0.piece), .double($0.score)]) })), ("byte_fallback", false)])),
        ])
    }

    /// MBartConverter's, and MBartTokenizerFast's `set_src_lang_special_tokens`: `$A </s> <lang>`,
    /// `$A $B </s> <lang>`.
    static func languagePostProcessor(eos: (String, Int), language: (String, Int)) -> JSONValue {
        template(single: [.sequence("A", 0), .special(eos.0, 0), .special(language.0, 0)],
                 pair: [.sequence("A", 0), .sequence("B", 0), .special(eos.0, 0), .special(language.0, 0)],
                 tokens: [eos, language])
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
