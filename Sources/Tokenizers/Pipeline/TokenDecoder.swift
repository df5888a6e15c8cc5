import JSON
import LSGErrors

/// A `tokenizers` decoder (tokenizer.json `decoder`): turns tokens back into text. Each step
/// maps the list of tokens (`decode_chain`); the result is their concatenation.
indirect enum TokenDecoder: Sendable {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, addPrefixSpace: Bool)
    case wordPiece(prefix: String, cleanup: Bool)
    case bpe(suffix: String)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(TextPattern, content: [Unicode.Scalar])
    case sequence([TokenDecoder])

    init(json value: JSONValue, path: String) throws(LSGError) {
        let fields = try ComponentFields(value, kind: "decoder", path: path)
        switch fields.type {
        case "ByteLevel": self = .byteLevel
        case "Metaspace":
            let scheme = try fields.optionalString("prepend_scheme")
            self = .metaspace(replacement: try fields.scalar("replacement"),
                              addPrefixSpace: try fields.bool("add_prefix_space", default: scheme != "never"))
        case "WordPiece": self = .wordPiece(prefix: try fields.optionalString("prefix") ?? "##", cleanup: try fields.bool("cleanup", default: true))
        case "BPEDecoder": self = .bpe(suffix: try fields.optionalString("suffix") ?? "</w>")
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Strip": self = .strip(content: try fields.scalar("content"), start: try fields.int("start", default: 0), stop: try fields.int("stop", default: 0))
        case "Replace": self = .replace(try fields.pattern("pattern"), content: Array(try fields.string("content").unicodeScalars))
        case "Sequence":
            var decoders: [TokenDecoder] = []
            for element in try fields.array("decoders") { decoders.append(try TokenDecoder(json: element, path: path)) }
            self = .sequence(decoders)
        default: throw fields.unknownType()
        }
    }

    func decode(_ tokens: [String]) -> String { decodeChain(tokens).joined() }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes += ByteLevelAlphabet.bytes(of: token) ?? Array(token.utf8) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .metaspace(let replacement, let addPrefixSpace):
            return tokens.enumerated().map { index, token in
                var result = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar == replacement {
                        if !(index == 0 && addPrefixSpace) { result.append(" ") }
                    } else {
                        result.append(scalar)
                    }
                }
                return String(result)
            }
        case .wordPiece(let prefix, let cleanup):
            return tokens.enumerated().map { index, token in
                var token = token
                if index != 0 {
                    if token.utf8.starts(with: prefix.utf8) { token = String(scalars: token.unicodeScalars.dropFirst(prefix.unicodeScalars.count)) } else { token = " " + token }
                }
                return cleanup ? Self.cleanUpTokenization(token, doNot: true) : token
            }
        case .bpe(let suffix):
            return tokens.enumerated().map { index, token in
                token.replacingBytes(of: suffix, with: index == tokens.count - 1 ? "" : " ")
            }
        case .byteFallback:
            var result: [String] = []
            var pending: [UInt8] = []
            var pendingTokens = 0
            func flush() {
                guard pendingTokens > 0 else { return }
                if let text = String(validating: pending, as: UTF8.self) {
                    result.append(text)
                } else {
                    result.append(contentsOf: repeatElement("\u{FFFD}", count: pendingTokens))
                }
                pending = []
                pendingTokens = 0
            }
            for token in tokens {
                if let byte = Self.byteFallbackValue(token) {
                    pending.append(byte)
                    pendingTokens += 1
                } else {
                    flush()
                    result.append(token)
                }
            }
            flush()
            return result
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let scalars = Array(token.unicodeScalars)
                var startCut = 0
                for index in 0..<min(start, scalars.count) {
                    guard scalars[index] == content else { break }
                    startCut = index + 1
                }
                var stopCut = scalars.count
                for offset in 0..<min(stop, scalars.count) {
                    let index = scalars.count - offset - 1
                    guard scalars[index] == content else { break }
                    stopCut = index
                }
                return startCut < stopCut ? String(scalars: scalars[startCut..<stopCut]) : ""
            }
        case .replace(let pattern, let content):
            return tokens.map { token in
                var text = NormalizedText(token)
                text.replace(pattern, with: content)
                return text.string
            }
        case .sequence(let decoders):
            var current = tokens
            for decoder in decoders { current = decoder.decodeChain(current) }
            return current
        }
    }

    /// `<0xXX>` as a byte.
    private static func byteFallbackValue(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"), utf8[2] == UInt8(ascii: "x"),
              utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3...4], as: UTF8.self), radix: 16)
    }

    /// transformers' `clean_up_tokenization` (and, with `doNot`, the WordPiece decoder's cleanup,
    /// which also turns " do not" into " don't").
    static func cleanUpTokenization(_ text: String, doNot: Bool = false) -> String {
        var text = text
        for (old, new) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m")] {
            text = text.replacingBytes(of: old, with: new)
        }
        if doNot { text = text.replacingBytes(of: " do not", with: " don't") }
        for (old, new) in [(" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            text = text.replacingBytes(of: old, with: new)
        }
        return text
    }
}
