import JSON
import LSGErrors

/// The `model` of a tokenizer.json.
enum ModelLoader {
    /// Ids index arrays; real vocabularies stay far below this (`tokenizers` itself stops at 2^32).
    static let maxTokenID = 1 << 24

    static func model(json value: JSONValue, path: String) throws(LSGError) -> any TokenizerModel {
        guard let object = value.objectValue else { throw LSGError(.malformed, file: path, "model is a JSON \(value.typeName), expected an object") }
        // Older files leave the type out; tokenizers then tries each model in turn.
        let type = object["type"]?.stringValue ?? (object["merges"] != nil ? "BPE" : object["vocab"]?.arrayValue != nil ? "Unigram" : "WordPiece")
        let fields = try ComponentFields(.object(JSONObject(object.map { ($0.key, $0.value) } + (object["type"] == nil ? [("type", .string(type))] : []))),
                                         kind: "model", path: path)
        switch type {
        case "WordPiece":
            return try WordPieceModel(vocabulary: try map(fields), unkToken: try fields.optionalString("unk_token") ?? "[UNK]",
                                      prefix: try fields.optionalString("continuing_subword_prefix") ?? "##",
                                      maxInputCharsPerWord: try fields.int("max_input_chars_per_word", default: 100), path: path)
        case "WordLevel":
            return WordLevelModel(vocabulary: try map(fields), unkToken: try fields.optionalString("unk_token") ?? "<unk>", path: path)
        case "BPE":
            var configuration = BPEModel.Configuration()
            configuration.unkToken = try fields.optionalString("unk_token")
            configuration.continuingSubwordPrefix = try fields.optionalString("continuing_subword_prefix")
            configuration.endOfWordSuffix = try fields.optionalString("end_of_word_suffix")
            configuration.fuseUnk = try fields.bool("fuse_unk", default: false)
            configuration.byteFallback = try fields.bool("byte_fallback", default: false)
            configuration.ignoreMerges = try fields.bool("ignore_merges", default: false)
            if let dropout = fields.object["dropout"], !dropout.isNull, dropout.doubleValue != 0 {
                throw LSGError(.unsupported, file: path, "model BPE has dropout \(dropout.compactString()), which makes encoding random; only null is supported")
            }
            return try BPEModel(vocabulary: try map(fields), merges: try merges(fields), configuration: configuration, path: path)
        case "Unigram":
            var pieces: [(String, Double)] = []
            for (index, entry) in try fields.array("vocab").enumerated() {
                guard let pair = entry.arrayValue, pair.count == 2, let piece = pair[0].stringValue, let score = pair[1].doubleValue else {
                    throw LSGError(.malformed, file: path, "model.vocab[\(index)] is not a [piece, score] pair")
                }
                pieces.append((piece, score))
            }
            let unkID = fields.object["unk_id"].flatMap { $0.isNull ? nil : $0.intValue }
            return try UnigramModel(pieces: pieces, unkID: unkID, byteFallback: try fields.bool("byte_fallback", default: false), path: path)
        default:
            throw fields.unknownType()
        }
    }

    private static func map(_ fields: ComponentFields) throws(LSGError) -> Vocabulary {
        guard let value = fields.object["vocab"] else { throw LSGError(.malformed, file: fields.path, "\(fields.context) has no \"vocab\"") }
        guard let object = value.objectValue else { throw fields.fail("vocab", value, expected: "an object of token ids") }
        var vocabulary: Vocabulary = [:]
        vocabulary.reserveCapacity(object.count)
        for (token, id) in object {
            guard let id = id.intValue, id >= 0 else {
                throw LSGError(.malformed, file: fields.path, "model.vocab \(JSONValue.string(token).compactString()) has a JSON \(id.typeName) id, expected a non-negative integer")
            }
            guard id < maxTokenID else {
                throw LSGError(.limitExceeded, file: fields.path, "model.vocab \(JSONValue.string(token).compactString()) has id \(id), past the \(maxTokenID) ids supported")
            }
            vocabulary[ExactString(token)] = id
        }
        return vocabulary
    }

    /// `"a b"` strings (tokenizers up to 0.19) or `["a", "b"]` pairs.
    private static func merges(_ fields: ComponentFields) throws(LSGError) -> [(String, String)] {
        var merges: [(String, String)] = []
        for (index, entry) in try fields.array("merges").enumerated() {
            if let text = entry.stringValue {
                let parts = text.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw LSGError(.malformed, file: fields.path, "model.merges[\(index)] \(entry.compactString()) is not two tokens separated by a space") }
                merges.append((String(scalars: parts[0]), String(scalars: parts[1])))
            } else if let pair = entry.arrayValue, pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue {
                merges.append((left, right))
            } else {
                throw LSGError(.malformed, file: fields.path, "model.merges[\(index)] is a JSON \(entry.typeName), expected \"a b\" or [a, b]")
            }
        }
        return merges
    }
}
