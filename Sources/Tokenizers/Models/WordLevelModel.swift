import LSGErrors

/// `tokenizers`' WordLevel: a word is its vocabulary entry, or the unk token.
struct WordLevelModel: TokenizerModel {
    let vocabulary: Vocabulary
    let tokens: [String?]
    let unkToken: String
    let path: String

    init(vocabulary: Vocabulary, unkToken: String, path: String) {
        self.vocabulary = vocabulary
        tokens = tokensByID(vocabulary)
        self.unkToken = unkToken
        self.path = path
    }

    var vocabularySize: Int { vocabulary.count }
    func id(of token: String) -> Int? { vocabulary[token] }
    func token(of id: Int) -> String? { tokens.token(id) }

    func tokenize(_ word: [Unicode.Scalar]) throws(LSGError) -> [ModelToken] {
        let value = String(scalars: word)
        if let id = vocabulary[value] { return [ModelToken(id: id, value: value, range: 0..<word.count)] }
        guard let unkID = vocabulary[unkToken] else {
            throw LSGError(.malformed, file: path, "WordLevel unk_token \(unkToken) is not in the vocabulary, and \(value) is not either")
        }
        return [ModelToken(id: unkID, value: unkToken, range: 0..<word.count)]
    }
}
