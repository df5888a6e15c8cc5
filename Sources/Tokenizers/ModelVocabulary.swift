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

    /// The vocabulary transformers' converter builds from a sentencepiece model (`converter.vocabulary`).
    /// A Unigram model keeps the list; a BPE model makes it a map. WORD and CHAR models are refused,
    /// as the converter refuses them.
    init(sentencePiece model: SentencePieceModel, converter: SentencePieceConverter, path: String) throws(LSGError) {
        let list = converter.vocabulary(model).map(\.piece)
        let origin = "\(converter.fileName) via transformers' \(converter.className)"
        switch model.modelType {
        case .unigram: self.init(list: list, origin: origin)
        case .bpe: self.init(map: list.enumerated().map { ($1, $0) }, origin: origin)
        case .word, .char:
            throw LSGError(.unsupported, file: path, "is a \(model.modelType == .word ? "WORD" : "CHAR") sentencepiece model, which transformers' \(converter.className) refuses (only Unigram and BPE convert)")
        }
    }
}

/// transformers 4.36.2's converters of sentencepiece tokenizers for the supported families: the
/// vocabulary each builds (`vocab`) and its unknown id (`unk_id`).
enum SentencePieceConverter: Sendable, Equatable {
    case camembert, xlmRoberta, albert, barthez, mbart
    /// PegasusConverter, which reads the slow tokenizer's tokens and offset.
    case pegasus(PegasusLayout)

    /// The language codes MBartConverter appends, which MBartTokenizer(Fast) makes additional
    /// special tokens (`FAIRSEQ_LANGUAGE_CODES`).
    static let fairseqLanguageCodes = [
        "ar_AR", "cs_CZ", "de_DE", "en_XX", "es_XX", "et_EE", "fi_FI", "fr_XX", "gu_IN", "hi_IN", "it_IT", "ja_XX", "kk_KZ",
        "ko_KR", "lt_LT", "lv_LV", "my_MM", "ne_NP", "nl_XX", "ro_RO", "ru_RU", "si_LK", "tr_TR", "vi_VN", "zh_CN",
    ]

    /// The slow tokenizer's sentencepiece file.
    var fileName: String {
        switch self {
        case .albert, .pegasus: "spiece.model"
        case .camembert, .xlmRoberta, .barthez, .mbart: "sentencepiece.bpe.model"
        }
    }

    var className: String {
        switch self {
        case .camembert: "CamembertConverter"
        case .xlmRoberta: "XLMRobertaConverter"
        case .albert: "AlbertConverter"
        case .barthez: "BarthezConverter"
        case .mbart: "MBartConverter"
        case .pegasus: "PegasusConverter"
        }
    }

    /// Tokens the converter puts before the pieces, with their scores.
    var leadingTokens: [(piece: String, score: Double)] {
        switch self {
        case .camembert: [("<s>NOTUSED", 0), ("<pad>", 0), ("</s>NOTUSED", 0), ("<unk>", 0), ("<unk>NOTUSED", -100)]
        case .xlmRoberta, .mbart: [("<s>", 0), ("<pad>", 0), ("</s>", 0), ("<unk>", 0)]
        case .albert, .barthez: []
        case .pegasus(let layout):
            [(layout.pad, 0), (layout.eos, 0)] + [layout.maskTokenSent, layout.maskBelowOffset].compactMap { $0.map { ($0, 0) } }
                + (2..<max(2, layout.offset)).map { ("<unk_\($0)>", -100) }
        }
    }

    /// Pieces of the model the converter leaves out, from the start.
    var skippedPieces: Int {
        switch self {
        case .camembert: 1
        case .xlmRoberta, .mbart: 3
        case .pegasus: 2
        case .albert, .barthez: 0
        }
    }

    /// Tokens the converter appends after the pieces (score 0).
    var trailingTokens: [String] {
        switch self {
        case .camembert, .xlmRoberta: ["<mask>"]
        case .mbart: Self.fairseqLanguageCodes + ["<mask>"]
        case .albert, .barthez, .pegasus: []
        }
    }

    /// The converter's vocabulary: the leading tokens, the pieces kept (AlbertConverter takes 100
    /// off the score of a piece ending in a comma after a digit), the trailing tokens.
    func vocabulary(_ model: SentencePieceModel) -> [(piece: String, score: Double)] {
        var vocabulary = leadingTokens
        for (piece, score) in zip(model.pieces, model.scores).dropFirst(skippedPieces) {
            vocabulary.append((piece, Double(score) - (self == .albert && Self.isNumberComma(piece) ? 100 : 0)))
        }
        return vocabulary + trailingTokens.map { ($0, 0) }
    }

    /// The Unigram model's unknown id.
    func unknownID(_ model: SentencePieceModel) -> Int {
        switch self {
        case .camembert, .xlmRoberta, .barthez, .mbart: 3
        case .albert: model.unknownID
        case .pegasus(let layout): model.unknownID + layout.offset
        }
    }

    /// A piece ending in a comma after a digit (Python's str.isdigit: decimal and digit numeric types).
    private static func isNumberComma(_ piece: String) -> Bool {
        let scalars = Array(piece.unicodeScalars)
        let digit = scalars.count >= 2 ? scalars[scalars.count - 2].properties.numericType : nil
        return scalars.last == "," && (digit == .decimal || digit == .digit)
    }
}

/// PegasusTokenizer(Fast)'s layout of the ids below `offset`, as PegasusConverter reads it from
/// the slow tokenizer: pad, eos, `mask_token_sent` (unless None), the mask token when its id is
/// below the offset, `<unk_2>` up to `<unk_{offset-1}>`; the model's pieces shifted by `offset`.
struct PegasusLayout: Sendable, Equatable {
    var pad: String
    var eos: String
    var maskTokenSent: String?
    /// The mask token when the slow tokenizer gives it an id below the offset: with a
    /// `mask_token_sent`, its `_added_tokens_decoder` puts the mask at 3; without one, ids 2 to
    /// `offset - 1` are the `<unk_i>` tokens and the mask is added past the vocabulary.
    var maskBelowOffset: String?
    var offset: Int
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
