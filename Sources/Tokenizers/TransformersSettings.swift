import Foundation
import JSON
import LSGErrors

/// What transformers 4.36.2's fast tokenizer classes take from tokenizer_config.json beyond the
/// special tokens: lengths, padding side, decoding cleanup, the constructor options that
/// rewrite tokenizer.json components, and the added tokens with their flags.
struct TransformersSettings: Sendable {
    /// transformers' `VERY_LARGE_INTEGER` (`int(1e30)`): larger `model_max_length`s mean "no limit".
    static let noLimit = 1e29

    var modelMaxLength: Int?
    var padLeft = false
    var cleanUpTokenizationSpaces = true
    var doLowerCase = true
    var stripAccents: Bool?
    /// ALBERT's `keep_accents` (default false: its converter strips them).
    var keepAccents = false
    var tokenizeChineseChars = true
    var addPrefixSpace = false
    var trimOffsets = true
    /// MBartTokenizerFast's `src_lang` (default `en_XX`), whose code ends every encoding.
    var sourceLanguage = "en_XX"
    /// `added_tokens_decoder`, in id order.
    var addedTokens: [AddedToken]?

    init(config: JSONObject?, path: String) throws(LSGError) {
        guard let config else { return }
        func bool(_ key: String) throws(LSGError) -> Bool? {
            guard let value = config[key], !value.isNull else { return nil }
            guard let bool = value.boolValue else { throw LSGError(.malformed, file: path, "\(key) is a JSON \(value.typeName), expected a boolean") }
            return bool
        }
        if let length = config["model_max_length"]?.doubleValue, length < Self.noLimit, length >= 0 { modelMaxLength = Int(length) }
        if let side = config["padding_side"] {
            guard let name = side.stringValue, name == "left" || name == "right" else {
                throw LSGError(.malformed, file: path, "padding_side is \(side.compactString()), expected \"left\" or \"right\"")
            }
            padLeft = name == "left"
        }
        cleanUpTokenizationSpaces = try bool("clean_up_tokenization_spaces") ?? true
        doLowerCase = try bool("do_lower_case") ?? true
        stripAccents = try bool("strip_accents")
        keepAccents = try bool("keep_accents") ?? false
        tokenizeChineseChars = try bool("tokenize_chinese_chars") ?? true
        addPrefixSpace = try bool("add_prefix_space") ?? false
        trimOffsets = try bool("trim_offsets") ?? true
        switch config["src_lang"] {
        case nil, .null?: break
        case .string(let language)?: sourceLanguage = language
        case let value?: throw LSGError(.malformed, file: path, "src_lang is a JSON \(value.typeName), expected a string")
        }
        if let decoder = config["added_tokens_decoder"]?.objectValue {
            var tokens: [AddedToken] = []
            for (key, entry) in decoder {
                guard let id = Int(key.trimmingCharacters(in: .whitespaces)) else { continue }
                tokens.append(try AddedToken(json: entry, id: id, path: path, key: "added_tokens_decoder[\(key)]"))
            }
            addedTokens = tokens.sorted { $0.id < $1.id }
        }
    }

    /// tokenizer.json as the class's constructor leaves it: BERT classes rebuild a
    /// BertNormalizer with `do_lower_case`, `strip_accents` and `tokenize_chinese_chars`; RoBERTa
    /// sets `add_prefix_space` on the pre-tokenizer and `add_prefix_space`/`trim_offsets` on the
    /// post-processor, where those keys exist.
    func adjusted(_ json: JSONValue, for tokenizerClass: TokenizerClass) -> JSONValue {
        guard case .object(var object) = json else { return json }
        func edit(_ key: String, _ change: (inout JSONObject) -> Void) {
            guard case .object(var component)? = object[key] else { return }
            change(&component)
            object = JSONObject(object.map { ($0.key, $0.key == key ? .object(component) : $0.value) })
        }
        switch tokenizerClass {
        case .bert, .distilbert, .electra:
            edit("normalizer") { normalizer in
                guard normalizer["type"] == .string("BertNormalizer") else { return }
                normalizer = normalizer.setting("lowercase", .bool(doLowerCase))
                    .setting("strip_accents", stripAccents.map(JSONValue.bool) ?? .null)
                    .setting("handle_chinese_chars", .bool(tokenizeChineseChars))
            }
        case .roberta, .bart:
            edit("pre_tokenizer") { preTokenizer in
                if preTokenizer["add_prefix_space"] != nil { preTokenizer = preTokenizer.setting("add_prefix_space", .bool(addPrefixSpace)) }
            }
            edit("post_processor") { processor in
                if processor["add_prefix_space"] != nil { processor = processor.setting("add_prefix_space", .bool(addPrefixSpace)) }
                if processor["trim_offsets"] != nil { processor = processor.setting("trim_offsets", .bool(trimOffsets)) }
            }
        case .camembert, .xlmRoberta, .albert, .mbart, .barthez, .pegasus:
            break
        }
        return .object(object)
    }
}

extension JSONObject {
    /// A copy with `key` set (replaced in place, or added at the end).
    func setting(_ key: String, _ value: JSONValue) -> JSONObject {
        var pairs = map { ($0.key, $0.value) }
        if let index = pairs.firstIndex(where: { $0.0 == key }) { pairs[index].1 = value } else { pairs.append((key, value)) }
        return JSONObject(pairs)
    }
}
