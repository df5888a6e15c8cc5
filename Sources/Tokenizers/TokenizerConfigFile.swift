import JSON
import LSGErrors

/// A key of a tokenizer file that is either set or null. Null leaves the token unset: the
/// class default does not apply.
enum TokenSetting<Value: Sendable & Equatable>: Sendable, Equatable {
    case unset
    case value(Value)

    init(_ value: Value?) { self = value.map(TokenSetting.value) ?? .unset }
}

/// tokenizer_config.json, as transformers 4.36.2's `from_pretrained` reads it: what decides
/// the tokenizer class and the token ids.
struct TokenizerConfigFile: Sendable {
    static let fileName = "tokenizer_config.json"

    /// `tokenizer_file`: absent, null (the fast tokenizer is then converted from the slow files
    /// even when tokenizer.json exists), or a path transformers opens instead of tokenizer.json.
    enum TokenizerFileSetting: Sendable, Equatable {
        case absent, null, path(String)
    }

    let path: String
    let tokenizerClass: String?
    let tokenizerFile: TokenizerFileSetting
    /// `added_tokens_decoder` as (id, content) pairs; nil when the key is absent, as in files
    /// older transformers wrote, which sends transformers to special_tokens_map.json and added_tokens.json.
    let addedTokensDecoder: [(id: Int, content: String)]?
    let specialTokens: [SpecialTokenRole: TokenSetting<String>]
    let additionalSpecialTokens: TokenSetting<[String]>?
    /// PegasusTokenizer's `offset` and `mask_token_sent` (null unsets it), when given.
    let offset: Int?
    let maskTokenSent: TokenSetting<String>?

    init(_ object: JSONObject, path: String) throws(LSGError) {
        self.path = path
        switch object["tokenizer_class"] {
        case nil, .null?: tokenizerClass = nil
        case .string(let name)?: tokenizerClass = name
        case let value?: throw LSGError(.malformed, file: path, "tokenizer_class is a JSON \(value.typeName), expected a string")
        }
        switch object["tokenizer_file"] {
        case nil: tokenizerFile = .absent
        case .null?: tokenizerFile = .null
        case .string(let file)?: tokenizerFile = .path(file)
        case let value?: throw LSGError(.malformed, file: path, "tokenizer_file is a JSON \(value.typeName), expected a string or null")
        }
        addedTokensDecoder = try object["added_tokens_decoder"].map { value throws(LSGError) in try Self.decoder(value, path: path) }
        (specialTokens, additionalSpecialTokens) = try AddedTokenObject.declaredTokens(
            in: object, file: path, element: AddedTokenObject.configToken)
        switch object["offset"] {
        case nil, .null?: offset = nil
        case let value?:
            guard let offset = value.intValue else { throw LSGError(.malformed, file: path, "offset is a JSON \(value.typeName), expected an integer") }
            self.offset = offset
        }
        maskTokenSent = try object["mask_token_sent"].map { value throws(LSGError) in
            TokenSetting(try AddedTokenObject.configToken(value, file: path, key: "mask_token_sent"))
        }
    }

    /// `added_tokens_decoder`: an object from ids (decimal strings, as Python's `int()` reads
    /// them) to AddedToken objects.
    private static func decoder(_ value: JSONValue, path: String) throws(LSGError) -> [(id: Int, content: String)] {
        guard let object = value.objectValue else {
            throw LSGError(.malformed, file: path, "added_tokens_decoder is a JSON \(value.typeName), expected an object")
        }
        var entries: [(id: Int, content: String)] = []
        for (key, entry) in object {
            guard let id = Int(key.trimmingCharacters(in: .whitespaces)) else {
                throw LSGError(.malformed, file: path, "added_tokens_decoder key \"\(key)\" is not an integer")
            }
            guard let token = entry.objectValue else {
                throw LSGError(.malformed, file: path, "added_tokens_decoder[\(key)] is a JSON \(entry.typeName), expected an AddedToken object")
            }
            entries.append((id, try AddedTokenObject.content(of: token, file: path, key: "added_tokens_decoder[\(key)]")))
        }
        return entries
    }
}
