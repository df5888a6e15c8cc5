import JSON
import LSGErrors

/// A token written as a serialized `tokenizers.AddedToken` (`{"content": ..., "lstrip": ...}`),
/// checked as `AddedToken(**object)` checks it: `content` a string (the empty string when
/// absent), each flag a boolean, other keys ignored.
enum AddedTokenObject {
    static let flags = ["single_word", "lstrip", "rstrip", "normalized", "special"]

    /// The content of the token `object`. `specialGiven`: the caller passes `special=True`
    /// itself, so the object may not hold it (special_tokens_map.json).
    static func content(of object: JSONObject, specialGiven: Bool = false, file: String, key: String) throws(LSGError) -> String {
        for flag in flags {
            guard let value = object[flag] else { continue }
            if specialGiven && flag == "special" {
                throw LSGError(.malformed, file: file, "\(key) gives \"special\", which transformers also passes itself (AddedToken refuses it twice)")
            }
            guard value.boolValue != nil else {
                throw LSGError(.malformed, file: file, "\(key) \"\(flag)\" is a JSON \(value.typeName), expected a boolean")
            }
        }
        switch object["content"] {
        case nil: return ""
        case .string(let content)?: return content
        case let value?: throw LSGError(.malformed, file: file, "\(key) \"content\" is a JSON \(value.typeName), expected a string")
        }
    }

    /// A special token in tokenizer_config.json: a string, null (unset), or an AddedToken object
    /// marked `"__type": "AddedToken"` (transformers keeps any other object as a dict and refuses it).
    static func configToken(_ value: JSONValue, file: String, key: String) throws(LSGError) -> String? {
        switch value {
        case .string(let content): return content
        case .null: return nil
        case .object(let object) where object["__type"] == "AddedToken":
            return try content(of: object, file: file, key: key)
        case .object:
            throw LSGError(.malformed, file: file, "\(key) is an object without \"__type\": \"AddedToken\", which transformers refuses")
        default:
            throw LSGError(.malformed, file: file, "\(key) is a JSON \(value.typeName), expected a string or an AddedToken object")
        }
    }

    /// A special token in special_tokens_map.json: a string, null (unset), or an AddedToken object
    /// (read as `AddedToken(**object, special=True)`).
    static func mapToken(_ value: JSONValue, file: String, key: String) throws(LSGError) -> String? {
        switch value {
        case .string(let content): return content
        case .null: return nil
        case .object(let object): return try content(of: object, specialGiven: true, file: file, key: key)
        default: throw LSGError(.malformed, file: file, "\(key) is a JSON \(value.typeName), expected a string or an AddedToken object")
        }
    }

    /// A list of additional special tokens; each element is read by `element`. Null unsets the list.
    static func tokenList(_ value: JSONValue, file: String, key: String,
                          element: (JSONValue, String, String) throws(LSGError) -> String?) throws(LSGError) -> [String]? {
        switch value {
        case .null: return nil
        case .array(let values):
            var tokens: [String] = []
            for (index, value) in values.enumerated() {
                guard value != .null, let token = try element(value, file, "\(key)[\(index)]") else {
                    throw LSGError(.malformed, file: file, "\(key)[\(index)] is null, expected a string or an AddedToken object")
                }
                tokens.append(token)
            }
            return tokens
        default:
            throw LSGError(.malformed, file: file, "\(key) is a JSON \(value.typeName), expected a list")
        }
    }

    /// The special tokens a tokenizer file declares (each role's key, and the additional list),
    /// every value read by `element`.
    static func declaredTokens(in object: JSONObject, file: String,
                               element: (JSONValue, String, String) throws(LSGError) -> String?)
        throws(LSGError) -> (tokens: [SpecialTokenRole: TokenSetting<String>], additional: TokenSetting<[String]>?)
    {
        var tokens: [SpecialTokenRole: TokenSetting<String>] = [:]
        for role in SpecialTokenRole.allCases {
            guard let value = object[role.key] else { continue }
            tokens[role] = TokenSetting(try element(value, file, role.key))
        }
        let additional = try object[additionalSpecialTokensKey].map { value throws(LSGError) in
            TokenSetting(try tokenList(value, file: file, key: additionalSpecialTokensKey, element: element))
        }
        return (tokens, additional)
    }
}
