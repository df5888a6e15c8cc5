import Foundation
import JSON
import LSGErrors
import Parallel

/// A tokenizer exactly as transformers 4.36.2's `AutoTokenizer.from_pretrained(directory)` (the
/// fast tokenizer, `tokenizers` 0.15.2) builds it: tokenizer.json, or the slow tokenizer's files
/// converted as `convert_slow_tokenizer` converts them, with the class's constructor options
/// and the added and special tokens of the tokenizer files.
public final class Tokenizer: Sendable {
    let pipeline: TokenizerPipeline
    let settings: TransformersSettings
    public let specialTokens: SpecialTokens
    /// tokenizer_config.json's `model_max_length`, unless absent or transformers' "no limit".
    public let modelMaxLength: Int?
    /// `len(tokenizer)`: the vocabulary with the added tokens.
    public let vocabularySize: Int
    /// The model directory, which errors about a call name.
    let directoryPath: String

    public init(directory: URL) throws(LSGError) {
        let files = TokenizerDirectory(url: directory)
        let modelConfig = FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path)
            ? try files.jsonObject("config.json") : JSONObject()
        guard let specialTokens = try SpecialTokens.load(directory: directory, modelConfig: modelConfig) else {
            throw LSGError(.malformed, file: directory.path, "names no tokenizer class (tokenizer_config.json tokenizer_class or config.json model_type)")
        }
        let configPath = files.path(of: TokenizerConfigFile.fileName)
        let configObject = files.contains(TokenizerConfigFile.fileName) ? try files.jsonObject(TokenizerConfigFile.fileName) : nil
        let settings = try TransformersSettings(config: configObject, path: configPath)
        let config = try configObject.map { object throws(LSGError) in try TokenizerConfigFile(object, path: configPath) }
        let tokenizerClass = specialTokens.tokenizerClass

        var pipeline: TokenizerPipeline
        if let url = try SpecialTokens.tokenizerFile(files: files, setting: config?.tokenizerFile ?? .absent) {
            let json = try SpecialTokens.loadJSON(url)
            pipeline = try TokenizerPipeline(json: settings.adjusted(json, for: tokenizerClass), path: url.path)
        } else {
            let json = try SlowTokenizerConversion.tokenizerJSON(files: files, tokenizerClass: tokenizerClass,
                                                                 specialTokens: specialTokens, settings: settings)
            pipeline = try TokenizerPipeline(json: settings.adjusted(json, for: tokenizerClass), path: directory.path)
        }
        if let configured = settings.addedTokens { pipeline.add(configured) }
        var declared = SpecialTokenRole.allCases.compactMap { specialTokens.tokens[$0]?.content } + specialTokens.additional
        declared.removeAll { pipeline.addedToken(content: $0) != nil }
        let lstripMask = tokenizerClass.masksStripLeft
        pipeline.add(declared.map { content in
            AddedToken(content: content, id: 0, special: true, lstrip: lstripMask && content == specialTokens.tokens[.mask]?.content)
        })
        if tokenizerClass == .mbart {
            // MBartTokenizerFast's `set_src_lang_special_tokens(src_lang)`: the ids of the fast
            // tokenizer (a token it does not know is the unk token), and their tokens back.
            func token(_ content: String?) throws(LSGError) -> (String, Int) {
                guard let id = content.flatMap({ pipeline.id(of: $0) }) ?? specialTokens.id(.unk), let token = pipeline.token(of: id) else {
                    throw LSGError(.malformed, file: configPath, "has no id for MBartTokenizerFast's post-processor token \(content ?? "eos_token (unset)")")
                }
                return (token, id)
            }
            let json = SlowTokenizerConversion.languagePostProcessor(eos: try token(specialTokens.tokens[.eos]?.content),
                                                                     language: try token(settings.sourceLanguage))
            pipeline.postProcessor = try PostProcessor(json: json, path: configPath)
        }
        self.pipeline = pipeline
        self.settings = settings
        self.specialTokens = specialTokens
        modelMaxLength = settings.modelMaxLength
        vocabularySize = pipeline.vocabularySize
        directoryPath = directory.path
    }

    public func token(forID id: Int) -> String? { pipeline.token(of: id) }

    public func id(forToken token: String) -> Int? { pipeline.id(of: token) }

    /// One text, or a pair, without truncation or padding.
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) throws(LSGError) -> Encoding {
        try encode(text, pair: pair, addSpecialTokens: addSpecialTokens, maxLength: nil)
    }

    func encode(_ text: String, pair: String?, addSpecialTokens: Bool, maxLength: Int?) throws(LSGError) -> Encoding {
        let first = try pipeline.encodeText(text)
        let second = try pair.map { text throws(LSGError) in try pipeline.encodeText(text) }
        return pipeline.postProcess(first, second, addSpecialTokens: addSpecialTokens, maxLength: maxLength)
    }

    /// Several texts (with `pairs`, one second text each), truncated and padded as `options`
    /// say; the texts are spread over the machine's cores.
    public func encode(batch texts: [String], pairs: [String]? = nil, options: TokenizeOptions) throws(LSGError) -> [Encoding] {
        if let pairs, pairs.count != texts.count {
            throw LSGError(.invalidInput, file: directoryPath, "\(pairs.count) second texts given for \(texts.count) texts")
        }
        let maxLength = options.maxLength ?? modelMaxLength
        if options.truncation && maxLength == nil {
            throw LSGError(.invalidOption, file: directoryPath, "truncation needs a maximum length, and the tokenizer has no model_max_length")
        }
        let truncation = options.truncation ? maxLength : nil
        var encodings: [Encoding]
        do {
            encodings = try Parallel().map(texts.count) { index in
                try self.encode(texts[index], pair: pairs?[index], addSpecialTokens: options.addSpecialTokens, maxLength: truncation)
            }
        } catch let error as LSGError {
            throw error
        } catch {
            throw LSGError(.internal, file: directoryPath, "\(error)")
        }
        var target: Int?
        switch options.padding {
        case .none: target = nil
        case .longest: target = encodings.map(\.count).max() ?? 0
        case .maxLength:
            guard let maxLength else {
                throw LSGError(.invalidOption, file: directoryPath, "padding to max_length needs a maximum length, and the tokenizer has no model_max_length")
            }
            target = maxLength
        }
        if var length = target {
            if let multiple = options.padToMultipleOf, multiple > 0, length % multiple != 0 { length += multiple - length % multiple }
            guard let padID = specialTokens.id(.pad), let padToken = specialTokens.tokens[.pad]?.content else {
                throw LSGError(.invalidOption, file: directoryPath, "padding needs a pad token, and the tokenizer has none")
            }
            for index in encodings.indices { encodings[index].pad(to: length, id: padID, token: padToken, left: settings.padLeft) }
        }
        return encodings
    }

    /// transformers' `convert_tokens_to_string` of a fast tokenizer: the decoder over the tokens,
    /// without the clean-up `decode` adds.
    public func convertTokensToString(_ tokens: [String]) -> String {
        pipeline.decode(tokens: tokens)
    }

    /// transformers' `decode`: the tokenizer's decoder, then `clean_up_tokenization` when
    /// tokenizer_config.json's `clean_up_tokenization_spaces` (default true) asks for it.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let text = pipeline.decode(ids, skipSpecialTokens: skipSpecialTokens)
        return settings.cleanUpTokenizationSpaces ? TokenDecoder.cleanUpTokenization(text) : text
    }
}
