import Foundation
import JSON
import LSGErrors

/// A `tokenizers` normalizer (tokenizer.json `normalizer`).
indirect enum Normalizer: Sendable {
    case bert(cleanText: Bool, handleChineseChars: Bool, stripAccents: Bool?, lowercase: Bool)
    case unicode(UnicodeForm)
    case lowercase
    case stripAccents
    case replace(TextPattern, content: [Unicode.Scalar])
    case prepend([Unicode.Scalar])
    case strip(left: Bool, right: Bool)
    case precompiled(PrecompiledCharsMap)
    case sequence([Normalizer])

    init(json value: JSONValue, path: String) throws(LSGError) {
        let fields = try ComponentFields(value, kind: "normalizer", path: path)
        switch fields.type {
        case "BertNormalizer":
            self = .bert(cleanText: try fields.bool("clean_text", default: true),
                         handleChineseChars: try fields.bool("handle_chinese_chars", default: true),
                         stripAccents: try fields.optionalBool("strip_accents"),
                         lowercase: try fields.bool("lowercase", default: true))
        case "NFC", "NFD", "NFKC", "NFKD": self = .unicode(UnicodeForm(rawValue: fields.type)!)
        case "Lowercase": self = .lowercase
        case "StripAccents": self = .stripAccents
        case "Replace": self = .replace(try fields.pattern("pattern"), content: Array(try fields.string("content").unicodeScalars))
        case "Prepend": self = .prepend(Array(try fields.string("prepend").unicodeScalars))
        case "Strip": self = .strip(left: try fields.bool("strip_left", default: true), right: try fields.bool("strip_right", default: true))
        case "Precompiled":
            guard let encoded = fields.object["precompiled_charsmap"] else {
                throw LSGError(.malformed, file: path, "normalizer Precompiled has no \"precompiled_charsmap\"")
            }
            // Older files write the map as a list of bytes, newer ones in base64.
            if let list = encoded.arrayValue {
                let bytes = list.compactMap { $0.intValue.flatMap(UInt8.init(exactly:)) }
                guard bytes.count == list.count else { throw fields.fail("precompiled_charsmap", encoded, expected: "a list of bytes") }
                self = .precompiled(try PrecompiledCharsMap(bytes, path: path))
            } else if let base64 = encoded.stringValue, let data = Base64.decode(base64) {
                self = .precompiled(try PrecompiledCharsMap(data, path: path))
            } else {
                throw fields.fail("precompiled_charsmap", encoded, expected: "base64 text or a list of bytes")
            }
        case "Sequence":
            var normalizers: [Normalizer] = []
            for element in try fields.array("normalizers") { normalizers.append(try Normalizer(json: element, path: path)) }
            self = .sequence(normalizers)
        default: throw fields.unknownType()
        }
    }

    func normalize(_ text: inout NormalizedText) {
        switch self {
        case .bert(let cleanText, let handleChineseChars, let stripAccents, let lowercase):
            if cleanText {
                if text.scalars.contains(where: { $0.value == 0 || $0.value == 0xFFFD || ScalarClass.isBertControl($0) }) {
                    text.filter { !($0.value == 0 || $0.value == 0xFFFD || ScalarClass.isBertControl($0)) }
                }
                text.map { ScalarClass.isBertWhitespace($0) ? " " : $0 }
            }
            if handleChineseChars, text.scalars.contains(where: ScalarClass.isChinese) {
                text.expand { scalar, out in
                    if ScalarClass.isChinese(scalar) { out.append(" "); out.append(scalar); out.append(" ") } else { out.append(scalar) }
                }
            }
            if stripAccents ?? lowercase {
                UnicodeForm.nfd.apply(to: &text)
                text.filter { $0.value < 0x300 || $0.properties.generalCategory != .nonspacingMark }
            }
            if lowercase { Self.lowercase(&text) }
        case .unicode(let form): form.apply(to: &text)
        case .lowercase: Self.lowercase(&text)
        case .stripAccents:
            // Every combining mark, spacing ones included (BertNormalizer removes nonspacing ones only).
            text.filter { !ScalarClass.isMark($0) }
        case .replace(let pattern, let content): text.replace(pattern, with: content)
        case .prepend(let prefix): text.prepend(prefix)
        case .strip(let left, let right): text.strip(left: left, right: right)
        case .precompiled(let map): map.apply(to: &text)
        case .sequence(let normalizers): for normalizer in normalizers { normalizer.normalize(&text) }
        }
    }

    /// A string normalized alone (added tokens' contents).
    func normalize(_ string: String) -> String {
        var text = NormalizedText(string)
        normalize(&text)
        return text.string
    }

    private static func lowercase(_ text: inout NormalizedText) {
        if text.scalars.allSatisfy({ $0.isASCII || $0.properties.lowercaseMapping.unicodeScalars.count == 1 }) {
            text.map { scalar in
                if scalar.isASCII { return scalar.value >= 65 && scalar.value <= 90 ? Unicode.Scalar(scalar.value + 32)! : scalar }
                return scalar.properties.lowercaseMapping.unicodeScalars.first!
            }
        } else {
            text.expand { scalar, out in out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars) }
        }
    }
}

/// Standard base64 (the encoding serde writes byte vectors with in tokenizer.json).
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        guard let data = Foundation.Data(base64Encoded: text) else { return nil }
        return [UInt8](data)
    }

    static func encode(_ bytes: [UInt8]) -> String { Foundation.Data(bytes).base64EncodedString() }
}
