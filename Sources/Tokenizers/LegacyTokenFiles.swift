import JSON
import LSGErrors

/// special_tokens_map.json. transformers reads it only when tokenizer_config.json has no
/// `added_tokens_decoder`; its tokens then override tokenizer_config.json's.
struct SpecialTokensMapFile: Sendable {
    static let fileName = "special_tokens_map.json"

    let specialTokens: [SpecialTokenRole: TokenSetting<String>]
    let additionalSpecialTokens: TokenSetting<[String]>?

    init(_ object: JSONObject, path: String) throws(LSGError) {
        (specialTokens, additionalSpecialTokens) = try AddedTokenObject.declaredTokens(
            in: object, file: path, element: AddedTokenObject.mapToken)
    }
}

/// added_tokens.json: tokens added past the vocabulary, with the ids the slow tokenizer gave
/// them. transformers reads it only when tokenizer_config.json has no `added_tokens_decoder`,
/// and the fast tokenizer uses the ids only to order the tokens: it numbers them again.
struct AddedTokensFile: Sendable {
    static let fileName = "added_tokens.json"

    /// (content, id) in file order.
    let entries: [(content: String, id: Int)]

    init(_ object: JSONObject, path: String) throws(LSGError) {
        entries = try object.map { (content, value) throws(LSGError) in
            guard let id = value.intValue else {
                throw LSGError(.malformed, file: path, "\(content) has a JSON \(value.typeName) id, expected an integer")
            }
            return (content, id)
        }
    }
}
