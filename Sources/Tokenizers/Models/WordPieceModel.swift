import LSGErrors

/// `tokenizers`' WordPiece: greedy longest match from the start of the word, pieces after the
/// first prefixed with `##`; a word with a part not in the vocabulary, or longer than
/// `max_input_chars_per_word`, is the unk token whole.
struct WordPieceModel: TokenizerModel {
    let vocabulary: Vocabulary
    let tokens: [String?]
    let unkToken: String
    let unkID: Int
    let prefix: String
    let maxInputCharsPerWord: Int
    let cache = WordCache()

    init(vocabulary: Vocabulary, unkToken: String, prefix: String, maxInputCharsPerWord: Int, path: String) throws(LSGError) {
        guard let unkID = vocabulary[unkToken] else {
            throw LSGError(.malformed, file: path, "WordPiece unk_token \(unkToken) is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        tokens = tokensByID(vocabulary)
        self.unkToken = unkToken
        self.unkID = unkID
        self.prefix = prefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    var vocabularySize: Int { vocabulary.count }
    func id(of token: String) -> Int? { vocabulary[token] }
    func token(of id: Int) -> String? { tokens.token(id) }

    func tokenize(_ word: [Unicode.Scalar]) -> [ModelToken] {
        let key = String(scalars: word)
        if let cached = cache.tokens(key) { return cached }
        let result = pieces(word)
        cache.store(key, result)
        return result
    }

    private func pieces(_ word: [Unicode.Scalar]) -> [ModelToken] {
        let unknown = [ModelToken(id: unkID, value: unkToken, range: 0..<word.count)]
        guard word.count <= maxInputCharsPerWord else { return unknown }
        var result: [ModelToken] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: ModelToken?
            while start < end {
                var candidate = start > 0 ? prefix : ""
                candidate.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[candidate] {
                    found = ModelToken(id: id, value: candidate, range: start..<end)
                    break
                }
                end -= 1
            }
            guard let token = found else { return unknown }
            result.append(token)
            start = end
        }
        return result
    }
}
