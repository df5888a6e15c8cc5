import Foundation
import JSON
import LSGErrors

/// The special tokens and their ids exactly as `AutoTokenizer.from_pretrained(directory)` (the
/// fast tokenizer) reports them in transformers 4.36.2 with tokenizers 0.15:
/// 1. the class: `tokenizer_class` of tokenizer_config.json, else of config.json, else the
///    model type's;
/// 2. the declared tokens: the class defaults, overridden by tokenizer_config.json (null unsets
///    a token) and, only when it has no `added_tokens_decoder` (files older transformers wrote),
///    by special_tokens_map.json; the additional list as the class's constructor extends it
///    (mBART's language codes first, Pegasus' `mask_token_sent` and `<unk_i>` tokens);
/// 3. the vocabulary: tokenizer.json (or the file `tokenizer_file` names; none when it is null),
///    else the slow tokenizer's files converted as transformers converts them;
/// 4. the added tokens: tokenizer.json's, then `added_tokens_decoder` (or, without it,
///    added_tokens.json and tokenizer.json's added tokens by their recorded ids) in id order,
///    then the declared special tokens missing so far, in the order bos, eos, unk, sep, pad, cls,
///    mask, additional; each numbered as `tokenizers` numbers them;
/// 5. a token's id: the added token's, else the vocabulary's, else the unk token's.
public struct SpecialTokens: Sendable {
    public struct Token: Sendable, Equatable {
        public let content: String
        public let id: Int?
        /// The file that named the token.
        public let declaredBy: TokenDeclarationSource
        /// Where its id comes from (a file, "added past the vocabulary", "the unk token's id").
        public let idOrigin: String
    }

    public let tokenizerClass: TokenizerClass
    public let tokens: [SpecialTokenRole: Token]
    /// The additional special tokens, in order.
    public let additional: [String]
    /// The converter of the slow tokenizer's files, when there is no tokenizer.json.
    let slowVocabulary: SlowVocabulary?

    public func id(_ role: SpecialTokenRole) -> Int? { tokens[role]?.id }

    /// Reads the tokenizer of `directory`; nil when no tokenizer class applies (no file names
    /// one and the model type has none). `modelConfig` is config.json's object.
    public static func load(directory: URL, modelConfig: JSONObject) throws(LSGError) -> SpecialTokens? {
        let files = TokenizerDirectory(url: directory)
        let config = try files.contains(TokenizerConfigFile.fileName)
            ? TokenizerConfigFile(try files.jsonObject(TokenizerConfigFile.fileName), path: files.path(of: TokenizerConfigFile.fileName))
            : nil
        let modelConfigClass: String?
        switch modelConfig["tokenizer_class"] {
        case .string(let name)?: modelConfigClass = name
        default: modelConfigClass = nil
        }
        guard let tokenizerClass = try TokenizerClass.resolve(
            tokenizerConfigClass: config?.tokenizerClass, modelConfigClass: modelConfigClass,
            modelType: modelConfig["model_type"]?.stringValue, configPath: files.path(of: TokenizerConfigFile.fileName))
        else { return nil }
        return try SpecialTokens(files: files, config: config, tokenizerClass: tokenizerClass)
    }

    init(files: TokenizerDirectory, config: TokenizerConfigFile?, tokenizerClass: TokenizerClass) throws(LSGError) {
        self.tokenizerClass = tokenizerClass

        // 2. Declared tokens.
        var declared: [SpecialTokenRole: (TokenSetting<String>, TokenDeclarationSource)] = [:]
        for (role, token) in tokenizerClass.defaultTokens { declared[role] = (.value(token), .classDefault(tokenizerClass)) }
        var additional = tokenizerClass.defaultAdditionalTokens.map(TokenSetting<[String]>.value)
        for (role, setting) in config?.specialTokens ?? [:] { declared[role] = (setting, .tokenizerConfig) }
        if let list = config?.additionalSpecialTokens { additional = list }
        let legacy = config?.addedTokensDecoder == nil
        if legacy, files.contains(SpecialTokensMapFile.fileName) {
            let map = try SpecialTokensMapFile(try files.jsonObject(SpecialTokensMapFile.fileName),
                                               path: files.path(of: SpecialTokensMapFile.fileName))
            for (role, setting) in map.specialTokens { declared[role] = (setting, .specialTokensMap) }
            switch map.additionalSpecialTokens {
            case nil: break
            case .unset?: additional = .unset
            case .value(let tokens)?:
                // Merged into tokenizer_config.json's list (not the class default), first ones first.
                var merged: [String] = []
                if case .value(let own)? = config?.additionalSpecialTokens { merged = own }
                for token in tokens where !merged.contains(token) { merged.append(token) }
                additional = .value(merged)
            }
        }
        let pegasus = PegasusOptions(config: config)
        var given: [String]?
        if case .value(let tokens)? = additional { given = tokens }
        let additionalTokens = tokenizerClass.additionalSpecialTokens(given, pegasus: pegasus)
        self.additional = additionalTokens

        // 3. The vocabulary, and tokenizer.json's own added tokens.
        let tokenizerFile = try Self.tokenizerFile(files: files, setting: config?.tokenizerFile ?? .absent)
        var vocabulary: AddedVocabulary
        var slowVocabulary: SlowVocabulary?
        var recordedAddedTokens: [(id: Int, content: String)] = []
        if let tokenizerFile {
            let path = tokenizerFile.path
            let json = try Self.loadJSON(tokenizerFile)
            vocabulary = AddedVocabulary(model: try ModelVocabulary(tokenizerJSON: json["model"], path: path))
            for (index, entry) in (json["added_tokens"]?.arrayValue ?? []).enumerated() {
                guard let content = entry["content"]?.stringValue else {
                    throw LSGError(.malformed, file: path, "added_tokens[\(index)] has no \"content\" string")
                }
                vocabulary.add(content, origin: "tokenizer.json added_tokens")
                if let id = entry["id"]?.intValue { recordedAddedTokens.append((id, content)) }
            }
        } else {
            var declaredContents: [SpecialTokenRole: String] = [:]
            for (role, (setting, _)) in declared { if case .value(let token) = setting { declaredContents[role] = token } }
            let kind = try tokenizerClass.slowVocabulary(declared: declaredContents, pegasus: pegasus, path: files.url.path)
            vocabulary = AddedVocabulary(model: try Self.slowVocabulary(kind, files: files))
            slowVocabulary = kind
        }

        // 4. Added tokens in id order, then the declared special tokens still missing.
        var decoder: [Int: String] = [:]
        if let entries = config?.addedTokensDecoder {
            for entry in entries { decoder[entry.id] = entry.content }
        } else {
            if files.contains(AddedTokensFile.fileName) {
                let file = try AddedTokensFile(try files.jsonObject(AddedTokensFile.fileName), path: files.path(of: AddedTokensFile.fileName))
                for entry in file.entries { decoder[entry.id] = entry.content }
            }
            for entry in recordedAddedTokens { decoder[entry.id] = entry.content }
        }
        let decoderOrigin = legacy ? "added_tokens.json" : "tokenizer_config.json added_tokens_decoder"
        var pending = decoder.keys.sorted().map { decoder[$0]! }
        let present = Set(vocabulary.ids.keys).union(pending)
        let specials = SpecialTokenRole.allCases.compactMap { role -> String? in
            if case .value(let token)? = declared[role]?.0 { token } else { nil }
        } + additionalTokens
        var decoderTokens = Set(pending)
        for token in specials where !present.contains(token) && !pending.contains(token) { pending.append(token) }
        for token in pending {
            vocabulary.add(token, origin: decoderTokens.remove(token) != nil ? decoderOrigin : "added past the vocabulary")
        }

        // 5. Ids.
        var unkId: Int?
        if case .value(let unk)? = declared[.unk]?.0 { unkId = vocabulary.id(of: unk) }
        var tokens: [SpecialTokenRole: Token] = [:]
        for role in SpecialTokenRole.allCases {
            guard let (setting, source) = declared[role], case .value(let content) = setting else { continue }
            if let id = vocabulary.id(of: content) {
                tokens[role] = Token(content: content, id: id, declaredBy: source, idOrigin: vocabulary.origin(of: content) ?? "the vocabulary")
            } else {
                tokens[role] = Token(content: content, id: unkId, declaredBy: source, idOrigin: "not in the vocabulary: the unk token's id")
            }
        }
        self.tokens = tokens
        self.slowVocabulary = slowVocabulary
    }

    /// The tokenizer.json transformers opens: the directory's, unless tokenizer_config.json's
    /// `tokenizer_file` is null (none) or names another path (which transformers opens as it is).
    static func tokenizerFile(files: TokenizerDirectory, setting: TokenizerConfigFile.TokenizerFileSetting) throws(LSGError) -> URL? {
        switch setting {
        case .null: return nil
        case .absent: return files.contains("tokenizer.json") ? files.url.appendingPathComponent("tokenizer.json") : nil
        case .path(let path):
            let url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw LSGError(.missingFile, file: files.path(of: TokenizerConfigFile.fileName), "tokenizer_file names \(path), which does not exist (transformers opens that path too, and fails)")
            }
            return url
        }
    }

    static func loadJSON(_ url: URL) throws(LSGError) -> JSONValue {
        try TokenizerDirectory(url: url.deletingLastPathComponent()).json(url.lastPathComponent)
    }

    /// The vocabulary transformers converts from the slow tokenizer's files.
    static func slowVocabulary(_ kind: SlowVocabulary, files: TokenizerDirectory) throws(LSGError) -> ModelVocabulary {
        for name in kind.fileNames where !files.contains(name) {
            throw LSGError(.missingFile, file: files.path(of: name), "is missing: with no tokenizer.json, transformers builds the tokenizer from \(kind.fileNames.joined(separator: " and ")), and cannot without it")
        }
        switch kind {
        case .sentencePiece(let converter):
            let path = files.path(of: converter.fileName)
            let model = try SentencePieceModel(try files.contents(of: converter.fileName), path: path)
            return try ModelVocabulary(sentencePiece: model, converter: converter, path: path)
        case .byteLevelBPE:
            let path = files.path(of: "vocab.json")
            var map: [(String, Int)] = []
            for (token, id) in try files.jsonObject("vocab.json") {
                guard let id = id.intValue else { throw LSGError(.malformed, file: path, "\(JSONValue.string(token).compactString()) has a JSON \(id.typeName) id, expected an integer") }
                map.append((token, id))
            }
            return ModelVocabulary(map: map, origin: "vocab.json")
        case .wordPiece:
            return ModelVocabulary(vocabTxt: try files.text("vocab.txt"))
        }
    }
}
