import JSON
import LSGErrors

/// A token of `tokenizers`' added vocabulary, split out of the text before the model runs.
struct AddedToken: Sendable, Equatable {
    var content: String
    var id: Int
    var singleWord = false
    var lstrip = false
    var rstrip = false
    /// Matched in the normalized text (its content normalized too), else in the raw text.
    var normalized = true
    var special = false

    /// An entry of tokenizer.json `added_tokens`, or of tokenizer_config.json `added_tokens_decoder` (`id` given).
    init(json value: JSONValue, id givenID: Int? = nil, path: String, key: String) throws(LSGError) {
        guard let object = value.objectValue else {
            throw LSGError(.malformed, file: path, "\(key) is a JSON \(value.typeName), expected an object")
        }
        guard let content = object["content"]?.stringValue else { throw LSGError(.malformed, file: path, "\(key) has no \"content\" string") }
        self.content = content
        if let givenID {
            id = givenID
        } else {
            guard let id = object["id"]?.intValue, id >= 0 else { throw LSGError(.malformed, file: path, "\(key) has no non-negative integer \"id\"") }
            self.id = id
        }
        func flag(_ name: String, _ fallback: Bool) throws(LSGError) -> Bool {
            guard let flag = object[name] else { return fallback }
            guard let bool = flag.boolValue else {
                throw LSGError(.malformed, file: path, "\(key) \"\(name)\" is a JSON \(flag.typeName), expected a boolean")
            }
            return bool
        }
        special = try flag("special", false)
        singleWord = try flag("single_word", false)
        lstrip = try flag("lstrip", false)
        rstrip = try flag("rstrip", false)
        normalized = try flag("normalized", !special)
    }

    init(content: String, id: Int, special: Bool, lstrip: Bool = false) {
        self.content = content
        self.id = id
        self.special = special
        self.lstrip = lstrip
        normalized = !special
    }
}

/// `tokenizers`' `AddedVocabulary` matching: the tokens not normalized are found in the raw
/// text, then the pieces between them are normalized and the normalized tokens found there;
/// leftmost-longest matches, `single_word` tokens only between non-word characters, `lstrip`
/// and `rstrip` taking the whitespace beside them.
struct AddedTokenMatcher: Sendable {
    private struct Candidates: Sendable {
        /// Per first scalar, the tokens starting with it, longest first.
        var byFirstScalar: [Unicode.Scalar: [(scalars: [Unicode.Scalar], token: Int)]] = [:]
        /// Whether a token starts with each ASCII scalar, so most scalars are passed without hashing.
        var asciiFirst = [Bool](repeating: false, count: 128)
        var isEmpty: Bool { byFirstScalar.isEmpty }

        func mayStart(with scalar: Unicode.Scalar) -> Bool { scalar.value >= 128 || asciiFirst[Int(scalar.value)] }

        mutating func add(_ scalars: [Unicode.Scalar], token: Int) {
            guard let first = scalars.first else { return }
            if first.value < 128 { asciiFirst[Int(first.value)] = true }
            byFirstScalar[first, default: []].append((scalars, token))
            byFirstScalar[first]!.sort { $0.scalars.count > $1.scalars.count }
        }
    }

    let tokens: [AddedToken]
    private let raw: Candidates
    private let normalized: Candidates

    init(tokens: [AddedToken], normalizer: Normalizer?) {
        self.tokens = tokens
        var raw = Candidates()
        var normalized = Candidates()
        for (index, token) in tokens.enumerated() {
            if token.normalized {
                let content = normalizer?.normalize(token.content) ?? token.content
                normalized.add(Array(content.unicodeScalars), token: index)
            } else {
                raw.add(Array(token.content.unicodeScalars), token: index)
            }
        }
        self.raw = raw
        self.normalized = normalized
    }

    /// `extract_and_normalize`: the text cut into added tokens and normalized pieces.
    func extractAndNormalize(_ text: String, normalizer: Normalizer?) -> [TextPiece] {
        var pieces: [TextPiece] = []
        for piece in split(NormalizedText(text), raw) {
            if piece.addedTokenIndex != nil { pieces.append(piece); continue }
            var normalizedText = piece.text
            normalizer?.normalize(&normalizedText)
            pieces.append(contentsOf: split(normalizedText, normalized))
        }
        return pieces
    }

    private func split(_ text: NormalizedText, _ candidates: Candidates) -> [TextPiece] {
        guard !candidates.isEmpty, !text.isEmpty else { return [TextPiece(text: text, addedTokenIndex: nil)] }
        let scalars = text.scalars
        var pieces: [TextPiece] = []
        var consumed = 0
        var index = 0
        while index < scalars.count {
            guard candidates.mayStart(with: scalars[index]), let options = candidates.byFirstScalar[scalars[index]],
                  let match = options.first(where: { index + $0.scalars.count <= scalars.count && scalars[index..<(index + $0.scalars.count)].elementsEqual($0.scalars) })
            else { index += 1; continue }
            var start = index
            var stop = index + match.scalars.count
            index = stop
            let token = tokens[match.token]
            if token.singleWord {
                let startIsBoundary = start == 0 || !Self.isWordCharacter(scalars[start - 1])
                let stopIsBoundary = stop == scalars.count || !Self.isWordCharacter(scalars[stop])
                guard startIsBoundary && stopIsBoundary else { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0 && ScalarClass.isWhitespace(scalars[newStart - 1]) { newStart -= 1 }
                start = max(newStart, consumed)
            }
            if token.rstrip {
                while stop < scalars.count && ScalarClass.isWhitespace(scalars[stop]) { stop += 1 }
                index = stop
            }
            if consumed < start { pieces.append(TextPiece(text: text.slice(consumed..<start), addedTokenIndex: nil)) }
            pieces.append(TextPiece(text: text.slice(start..<stop), addedTokenIndex: match.token))
            consumed = stop
        }
        if consumed < scalars.count { pieces.append(TextPiece(text: text.slice(consumed..<scalars.count), addedTokenIndex: nil)) }
        return pieces
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool { ScalarClass.isWord(scalar) }
}
