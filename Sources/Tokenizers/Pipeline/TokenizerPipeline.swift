import JSON
import LSGErrors

/// A tokenizer.json read into its components, and the encoding and decoding it runs
/// (`tokenizers`' `TokenizerImpl`).
struct TokenizerPipeline: Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: any TokenizerModel
    var postProcessor: PostProcessor?
    let decoder: TokenDecoder?
    private(set) var addedTokens: [AddedToken]
    private(set) var matcher: AddedTokenMatcher
    private var addedByID: [Int: Int] = [:]
    private var addedByContent: [ExactString: Int] = [:]

    init(json: JSONValue, path: String) throws(LSGError) {
        guard json.objectValue != nil else { throw LSGError(.malformed, file: path, "is a JSON \(json.typeName), expected an object") }
        func component<Component>(_ key: String, _ make: (JSONValue, String) throws(LSGError) -> Component) throws(LSGError) -> Component? {
            guard let value = json[key], !value.isNull else { return nil }
            return try make(value, path)
        }
        normalizer = try component("normalizer", Normalizer.init(json:path:))
        preTokenizer = try component("pre_tokenizer", PreTokenizer.init(json:path:))
        postProcessor = try component("post_processor", PostProcessor.init(json:path:))
        decoder = try component("decoder", TokenDecoder.init(json:path:))
        guard let modelJSON = json["model"] else { throw LSGError(.malformed, file: path, "has no \"model\"") }
        model = try ModelLoader.model(json: modelJSON, path: path)
        addedTokens = []
        matcher = AddedTokenMatcher(tokens: [], normalizer: nil)
        var tokens: [AddedToken] = []
        if let list = json["added_tokens"], !list.isNull {
            guard let entries = list.arrayValue else { throw LSGError(.malformed, file: path, "added_tokens is a JSON \(list.typeName), expected a list") }
            for (index, entry) in entries.enumerated() {
                tokens.append(try AddedToken(json: entry, path: path, key: "added_tokens[\(index)]"))
            }
        }
        add(tokens)
    }

    /// Adds tokens as `AddedVocabulary::add_tokens` does: a token already added keeps its id and
    /// takes the new flags; another takes its vocabulary id, or the next id past the vocabulary
    /// and the added tokens (the ids the tokens carry are not used).
    mutating func add(_ tokens: [AddedToken]) {
        for var token in tokens where !token.content.isEmpty {
            if let index = addedByContent[token.content] {
                token.id = addedTokens[index].id
                addedTokens[index] = token
                continue
            }
            if let id = model.id(of: token.content) {
                token.id = id
            } else {
                let largest = addedTokens.map(\.id).max()
                token.id = largest.map { $0 >= model.vocabularySize ? $0 + 1 : model.vocabularySize } ?? model.vocabularySize
            }
            addedByContent[ExactString(token.content)] = addedTokens.count
            addedByID[token.id] = addedTokens.count
            addedTokens.append(token)
        }
        matcher = AddedTokenMatcher(tokens: addedTokens, normalizer: normalizer)
    }

    func addedToken(content: String) -> AddedToken? { addedByContent[content].map { addedTokens[$0] } }

    /// `len(tokenizer)`: the largest id plus one over the vocabulary and the added tokens.
    var vocabularySize: Int { max(model.vocabularySize, (addedTokens.map(\.id).max() ?? -1) + 1) }

    func id(of token: String) -> Int? { addedByContent[token].map { addedTokens[$0].id } ?? model.id(of: token) }

    func token(of id: Int) -> String? { addedByID[id].map { addedTokens[$0].content } ?? model.token(of: id) }

    func isSpecial(id: Int) -> Bool { addedByID[id].map { addedTokens[$0].special } ?? false }

    /// One text through added-token extraction, normalization, pre-tokenization and the model.
    func encodeText(_ text: String) throws(LSGError) -> Encoding {
        var pieces = matcher.extractAndNormalize(text, normalizer: normalizer)
        preTokenizer?.preTokenize(&pieces)
        var encoding = Encoding()
        for piece in pieces {
            if let index = piece.addedTokenIndex {
                let token = addedTokens[index]
                // The token is the text matched, with the whitespace lstrip and rstrip took.
                encoding.append(id: token.id, token: piece.text.string, offsets: piece.text.originalRange(of: 0..<piece.text.count), typeID: 0, special: false)
                continue
            }
            guard !piece.text.isEmpty else { continue }
            for token in try model.tokenize(piece.text.scalars) {
                encoding.append(id: token.id, token: token.value, offsets: piece.text.originalRange(of: token.range), typeID: 0, special: false)
            }
        }
        return encoding
    }

    /// Truncation (`max_length` counting the special tokens, longest first for pairs) and
    /// post-processing, as `TokenizerImpl::post_process` runs them.
    func postProcess(_ first: Encoding, _ second: Encoding?, addSpecialTokens: Bool, maxLength: Int?) -> Encoding {
        var first = first
        var second = second
        if let maxLength {
            let added = addSpecialTokens ? (postProcessor?.addedTokenCount(isPair: second != nil) ?? 0) : 0
            let limit = max(0, maxLength - added)
            if var pair = second {
                var (n1, n2) = (first.count, pair.count)
                if n1 + n2 > limit {
                    let swapped = n1 > n2
                    if swapped { swap(&n1, &n2) }
                    n2 = n1 > limit ? n1 : max(n1, limit - n1)
                    if n1 + n2 > limit {
                        n1 = limit / 2
                        n2 = n1 + limit % 2
                    }
                    if swapped { swap(&n1, &n2) }
                    first.truncate(to: n1)
                    pair.truncate(to: n2)
                    second = pair
                }
            } else {
                first.truncate(to: limit)
            }
        }
        var encodings = [first]
        if let second { encodings.append(second) }
        if let postProcessor { encodings = postProcessor.process(encodings, addSpecialTokens: addSpecialTokens) }
        var merged = Encoding()
        for encoding in encodings { merged.append(contentsOf: encoding) }
        return merged
    }

    /// `Tokenizer::decode`: ids to tokens (special ones left out when asked), then the decoder.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        let tokens = ids.compactMap { id -> String? in
            guard let token = token(of: id) else { return nil }
            return skipSpecialTokens && isSpecial(id: id) ? nil : token
        }
        return decode(tokens: tokens)
    }

    /// The decoder alone over token strings (tokens joined by spaces without one).
    func decode(tokens: [String]) -> String {
        decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }
}
