import Foundation

/// Why a document is not acceptable JSON, and the byte offset where that was found.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public let offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }
}

/// Which JSON a document may be written in. One parser serves both; they differ only where
/// Python's `json` module is more lenient than RFC 8259.
public enum JSONSyntax: Sendable {
    /// RFC 8259 as the Rust safetensors crate reads its header: no duplicate keys, integers in
    /// the 64-bit range, no NaN or infinity, nesting at most 128 deep.
    case strict
    /// What Python's `json.loads` reads, for files Python wrote (`config.json`, tokenizer files,
    /// shard indexes, recipes): integers of any size, `NaN`, `Infinity`, `-Infinity`, floats that
    /// overflow to infinity, duplicate keys (the last value wins, in the first key's place).
    /// The bounds that guard against hostile files stay: nesting depth and number length.
    case python

    /// Deepest nesting accepted (serde_json's 128 for strict; Python's own recursion limit stops
    /// near 1000, we stop at 512).
    public var maxDepth: Int {
        switch self {
        case .strict: 128
        case .python: 512
        }
    }
}

/// A parsed document and the duplicate keys Python would have silently resolved.
public struct JSONDocument: Sendable {
    public struct DuplicateKey: Sendable, Equatable {
        /// The key, JSON-escaped and quoted (it may hold a newline).
        public let key: String
        public let offset: Int
    }

    public let value: JSONValue
    public let duplicateKeys: [DuplicateKey]
}

public enum JSONLimits {
    /// Most digits of one integer literal: Python's own limit since 3.11
    /// (`sys.get_int_max_str_digits()`), so we refuse what Python refuses.
    public static let maxIntegerDigits = 4300
    /// Most characters of one number with a fraction or exponent (Python reads any length; we
    /// bound it so that a hostile file is refused in milliseconds).
    public static let maxNumberCharacters = 4300
}

extension JSONValue {
    /// Parses one JSON document. Duplicate keys are an error in `.strict` syntax and resolved
    /// like Python (last value wins) in `.python` syntax; `parseDocument` reports them.
    public static func parse(_ bytes: UnsafeRawBufferPointer, syntax: JSONSyntax = .python, maxDepth: Int? = nil)
        throws(JSONParseError) -> JSONValue
    {
        try parseDocument(bytes, syntax: syntax, maxDepth: maxDepth).value
    }

    public static func parse(_ data: Data, syntax: JSONSyntax = .python, maxDepth: Int? = nil) throws(JSONParseError) -> JSONValue {
        try parseDocument(data, syntax: syntax, maxDepth: maxDepth).value
    }

    public static func parse(_ text: String, syntax: JSONSyntax = .python, maxDepth: Int? = nil) throws(JSONParseError) -> JSONValue {
        try parse(Data(text.utf8), syntax: syntax, maxDepth: maxDepth)
    }

    /// The document and the duplicate keys it resolved.
    public static func parseDocument(_ bytes: UnsafeRawBufferPointer, syntax: JSONSyntax = .python, maxDepth: Int? = nil)
        throws(JSONParseError) -> JSONDocument
    {
        var parser = JSONParser(bytes: bytes, syntax: syntax, maxDepth: maxDepth ?? syntax.maxDepth)
        let value = try parser.parseDocument()
        return JSONDocument(value: value, duplicateKeys: parser.duplicateKeys)
    }

    public static func parseDocument(_ data: Data, syntax: JSONSyntax = .python, maxDepth: Int? = nil)
        throws(JSONParseError) -> JSONDocument
    {
        let result: Result<JSONDocument, JSONParseError> = data.withUnsafeBytes { bytes in
            Result { () throws(JSONParseError) -> JSONDocument in try parseDocument(bytes, syntax: syntax, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Members of the top-level object or array: the commas directly inside it, plus one unless it
    /// is empty. One pass over the bytes that allocates nothing, so a limit on it refuses a hostile
    /// document listing millions of entries in milliseconds, before any of them is built. Exact for
    /// valid JSON; on malformed input only an estimate (the parser refuses such input anyway).
    public static func topLevelMemberCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        let count = bytes.count
        var depth = 0
        var commas = 0
        var hasMember = false
        var index = 0
        while index < count {
            switch base[index] {
            case UInt8(ascii: "\""):
                if depth == 1 { hasMember = true }
                // Jump to the closing quote (memchr): the next quote after an even run of backslashes.
                var search = index + 1
                while true {
                    guard search < count, let found = memchr(base + search, Int32(UInt8(ascii: "\"")), count - search) else {
                        return hasMember ? commas + 1 : 0  // unterminated string: malformed anyway
                    }
                    let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    var backslashes = 0
                    while quote - backslashes - 1 > index && base[quote - backslashes - 1] == UInt8(ascii: "\\") {
                        backslashes += 1
                    }
                    if backslashes % 2 == 0 {
                        index = quote
                        break
                    }
                    search = quote + 1
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 1 { hasMember = true }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 1 { commas += 1 }
            case 0x20, 0x09, 0x0A, 0x0D:
                break
            default:
                if depth == 1 { hasMember = true }
            }
            index += 1
        }
        return hasMember ? commas + 1 : 0
    }
}

private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let syntax: JSONSyntax
    let maxDepth: Int
    var position = 0
    var depth = 0
    var duplicateKeys: [JSONDocument.DuplicateKey] = []

    init(bytes: UnsafeRawBufferPointer, syntax: JSONSyntax, maxDepth: Int) {
        self.bytes = bytes
        self.syntax = syntax
        self.maxDepth = maxDepth
    }

    func fail(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(message: message, offset: offset ?? position)
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if let invalid = firstInvalidUTF8Offset(bytes) { throw fail("invalid UTF-8", at: invalid) }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count { throw fail("unexpected data after the JSON value") }
        return value
    }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    mutating func expect(_ literal: StaticString, value: JSONValue) throws(JSONParseError) -> JSONValue {
        let start = position
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw fail("invalid literal", at: start) }
        let literalBytes = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
        for index in 0..<count where bytes[position + index] != literalBytes[index] {
            throw fail("invalid literal", at: start)
        }
        position += count
        return value
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let byte = current else { throw fail("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
        case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
        case UInt8(ascii: "n"): return try expect("null", value: .null)
        case UInt8(ascii: "N") where syntax == .python: return try expect("NaN", value: .double(.nan))
        case UInt8(ascii: "I") where syntax == .python: return try expect("Infinity", value: .double(.infinity))
        case UInt8(ascii: "-") where syntax == .python && position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "I"):
            position += 1
            return try expect("Infinity", value: .double(-.infinity))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character '\(printable(byte))'")
        }
    }

    mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        position += 1
        var object = JSONObject()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            let keyStart = position
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            if object[key] != nil {
                // The key JSON-escaped: a key holding a newline must not break a one-line message.
                let quoted = JSONValue.string(key).compactString()
                guard syntax == .python else { throw fail("duplicate key \(quoted)", at: keyStart) }
                duplicateKeys.append(.init(key: quoted, offset: keyStart))
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            position += 1
            skipWhitespace()
            object[key] = try parseValue()
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                depth -= 1
                return .object(object)
            case nil: throw fail("unexpected end of input in an object")
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        position += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                depth -= 1
                return .array(array)
            case nil: throw fail("unexpected end of input in an array")
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        position += 1
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun(_ end: Int, into scalars: inout String.UnicodeScalarView) {
            if end > runStart {
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<end])
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            }
        }
        while true {
            guard let byte = current else { throw fail("unterminated string", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                flushRun(position, into: &scalars)
                position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                flushRun(position, into: &scalars)
                scalars.append(try parseEscape())
                runStart = position
            case 0..<0x20:
                throw fail("control character U+\(hex4(UInt16(byte))) in a string")
            default:
                position += 1
            }
        }
    }

    mutating func parseEscape() throws(JSONParseError) -> Unicode.Scalar {
        let start = position
        position += 1
        guard let byte = current else { throw fail("unterminated escape", at: start) }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try parseHex4(escapeStart: start)
            if (0xD800..<0xDC00).contains(high) {
                guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw fail("lone surrogate \\u\(hex4(high))", at: start) }
                position += 2
                let low = try parseHex4(escapeStart: start)
                guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate \\u\(hex4(high))", at: start) }
                let value = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                return Unicode.Scalar(value)!
            }
            guard let scalar = Unicode.Scalar(high) else { throw fail("lone surrogate \\u\(hex4(high))", at: start) }
            return scalar
        default:
            throw fail("invalid escape '\\\(printable(byte))'", at: start)
        }
    }

    mutating func parseHex4(escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard bytes.count - position >= 4 else { throw fail("truncated \\u escape", at: escapeStart) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape", at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        let integerStart = position
        guard let first = current, isDigit(first) else { throw fail("invalid number", at: start) }
        position += 1
        if first == UInt8(ascii: "0"), let next = current, isDigit(next) {
            throw fail("leading zero in a number", at: start)
        }
        while let byte = current, isDigit(byte) { position += 1 }
        let integerEnd = position
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let byte = current, isDigit(byte) else { throw fail("invalid number", at: start) }
            while let byte = current, isDigit(byte) { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let byte = current, isDigit(byte) else { throw fail("invalid number", at: start) }
            while let byte = current, isDigit(byte) { position += 1 }
        }
        if isInteger && integerEnd - integerStart > JSONLimits.maxIntegerDigits {
            throw fail("integer of more than \(JSONLimits.maxIntegerDigits) digits (Python's limit)", at: start)
        }
        if !isInteger && position - start > JSONLimits.maxNumberCharacters {
            throw fail("number of more than \(JSONLimits.maxNumberCharacters) characters", at: start)
        }
        if isInteger {
            // Accumulate on the negative side so that Int.min is representable.
            var value = 0
            for index in integerStart..<integerEnd {
                let digit = Int(bytes[index] - UInt8(ascii: "0"))
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = shifted.subtractingReportingOverflow(digit)
                if overflow1 || overflow2 { return try bigInteger(negative: negative, digits: integerStart..<integerEnd, start: start) }
                value = next
            }
            if !negative {
                guard value != Int.min else { return try bigInteger(negative: false, digits: integerStart..<integerEnd, start: start) }
                value = -value
            }
            return .int(value)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        // Python's float() rounds an overflowing literal to infinity.
        guard let value = Double(text), value.isFinite || syntax == .python else {
            throw fail("number outside the double range", at: start)
        }
        return .double(value)
    }

    func bigInteger(negative: Bool, digits: Range<Int>, start: Int) throws(JSONParseError) -> JSONValue {
        guard syntax == .python else { throw fail("integer outside the 64-bit range", at: start) }
        // No leading zeros can reach here (refused above), and -0 fits in Int.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[digits]), as: UTF8.self)
        return .bigInteger(negative ? "-" + text : text)
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

private func printable(_ byte: UInt8) -> String {
    (0x21..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
}

func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 4 - digits.count) + digits
}

/// Offset of the first byte that is not part of well-formed UTF-8, or nil.
public func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var index = 0
    let count = bytes.count
    while index < count {
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            continue
        }
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return index
        }
        guard count - index >= length else { return index }
        let second = bytes[index + 1]
        guard second >= lower, second <= upper else { return index }
        for offset in 2..<max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 {
            return index
        }
        index += length
    }
    return nil
}
