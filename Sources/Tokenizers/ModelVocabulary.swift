import JSON
import LSGErrors

/// The vocabulary of a `tokenizers` model (WordPiece, BPE, Unigram, WordLevel): token to id, and
/// the size `get_vocab_size()` reports, from which tokens added past the vocabulary are numbered.
struct ModelVocabulary: Sendable {
    var ids: [String: Int] = [:]
    /// Entries of a Unigram list (duplicates included), distinct tokens of a map.
    var size = 0
    /// Where the vocabulary came from, for the summary ("vocab.txt", "tokenizer.json model").
    var origin: String

    init(origin: String) { self.origin = origin }

    /// A map model (WordPiece, BPE, WordLevel): the last id given to a token wins.
    init(map: [(String, Int)], origin: String) {
        self.origin = origin
        for (token, id) in map { ids[token] = id }
        size = ids.count
    }

    /// A Unigram list: a token's id is its position, the last position of a repeated token wins,
    /// and the size counts every entry.
    init(list: [String], origin: String) {
        self.origin = origin
        for (index, token) in list.enumerated() { ids[token] = index }
        size = list.count
    }

    /// The `model` of a tokenizer.json.
    init(tokenizerJSON model: JSONValue?, path: String) throws(LSGError) {
        let origin = "tokenizer.json vocabulary"
        switch model?["vocab"] {
        case .object(let vocab)?:
            var map: [(String, Int)] = []
            for (token, id) in vocab {
                guard let id = id.intValue else { throw LSGError(.malformed, file: path, "model.vocab \(JSONValue.string(token).compactString()) has a JSON \(id.typeName) id, expected an integer") }
                map.append((token, id))
            }
            self.init(map: map, origin: origin)
        case .array(let entries)?:
            var list: [String] = []
            for (index, entry) in entries.enumerated() {
                guard let token = entry.arrayValue?.first?.stringValue else {
                    throw LSGError(.malformed, file: path, "model.vocab[\(index)] is not a [piece, score] pair")
                }
                list.append(token)
            }
            self.init(list: list, origin: origin)
        default:
            throw LSGError(.malformed, file: path, "has no model.vocab (a map or a list of [piece, score])")
        }
    }

    /// `vocab.txt` as `BertTokenizer.load_vocab` reads it: Python text lines (`\n`, `\r\n` and a
    /// lone `\r` end a line; a byte order mark stays part of the first token), each line a token
    /// whose id is its line number; a repeated token takes its last line.
    init(vocabTxt text: String) {
        self.init(map: Self.vocabTxtLines(text).enumerated().map { ($1, $0) }, origin: "vocab.txt")
    }

    /// The tokens of `vocab.txt`, one per line, in order.
    static func vocabTxtLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if previousWasCR {
                previousWasCR = false
                if scalar == "\n" { continue }
            }
            if scalar == "\n" || scalar == "\r" {
                lines.append(current)
                current = ""
                previousWasCR = scalar == "\r"
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The vocabulary transformers' converter builds from a sentencepiece model (CamembertConverter,
    /// XLMRobertaConverter: fairseq's special tokens, the pieces after the first few, `<mask>` last;
    /// AlbertConverter: the pieces as they are).
    /// A Unigram model keeps the list; a BPE model makes it a map. WORD and CHAR models are refused,
    /// as the converter refuses them.
    init(sentencePiece model: SentencePieceModel, converter: SentencePieceConverter, path: String) throws(LSGError) {
        let list = converter.leadingTokens + model.pieces.dropFirst(converter.skippedPieces) + converter.trailingTokens
        let origin = "\(converter.fileName) via transformers' \(converter.className)"
        switch model.modelType {
        case .unigram: self.init(list: list, origin: origin)
        case .bpe: self.init(map: list.enumerated().map { ($1, $0) }, origin: origin)
        case .word, .char:
            throw LSGError(.unsupported, file: path, "is a \(model.modelType == .word ? "WORD" : "CHAR") sentencepiece model, which transformers' \(converter.className) refuses (only Unigram and BPE convert)")
        }
    }
}

/// transformers' converters of sentencepiece tokenizers for the supported families.
enum SentencePieceConverter: Sendable {
    case camembert, xlmRoberta, albert

    /// The slow tokenizer's sentencepiece file.
    var fileName: String { self == .albert ? "spiece.model" : "sentencepiece.bpe.model" }

    var className: String {
        switch self {
        case .camembert: "CamembertConverter"
        case .xlmRoberta: "XLMRobertaConverter"
        case .albert: "AlbertConverter"
        }
    }

    var leadingTokens: [String] {
        switch self {
        case .camembert: ["<s>NOTUSED", "<pad>", "</s>NOTUSED", "<unk>", "<unk>NOTUSED"]
        case .xlmRoberta: ["<s>", "<pad>", "</s>", "<unk>"]
        case .albert: []
        }
    }

    /// Pieces of the model the converter leaves out, from the start.
    var skippedPieces: Int {
        switch self {
        case .camembert: 1
        case .xlmRoberta: 3
        case .albert: 0
        }
    }

    /// Tokens the converter appends after the pieces.
    var trailingTokens: [String] { self == .albert ? [] : ["<mask>"] }
}

/// The added tokens of a `tokenizers` tokenizer (`AddedVocabulary`): a token already in the
/// vocabulary, or added before, keeps its id; a new one gets the vocabulary size, or one more
/// than the largest added id once added ids reach the vocabulary size.
struct AddedVocabulary: Sendable {
    let model: ModelVocabulary
    private(set) var ids: [String: Int] = [:]
    /// Where each added token's id came from.
    private(set) var origins: [String: String] = [:]

    init(model: ModelVocabulary) { self.model = model }

    func id(of token: String) -> Int? { ids[token] ?? model.ids[token] }

    /// Where `id(of:)` found the token.
    func origin(of token: String) -> String? {
        if let origin = origins[token] { return origin }
        return model.ids[token] != nil ? model.origin : nil
    }

    mutating func add(_ token: String, origin: String) {
        guard !token.isEmpty, ids[token] == nil else { return }
        if let id = model.ids[token] {
            ids[token] = id
            return
        }
        let next: Int
        if let largest = ids.values.max(), largest >= model.size || model.size == 0 {
            next = largest + 1
        } else {
            next = model.size
        }
        ids[token] = next
        origins[token] = origin
    }
}
