extension JSONValue {
    /// Compact JSON as Rust serde_json writes it (and thus the safetensors header): no
    /// whitespace, keys in insertion order, non-ASCII characters written raw.
    public func compactString() -> String {
        var output = ""
        writeCompact(to: &output)
        return output
    }

    /// The text Python's `json.dumps(value, indent: indent, sort_keys: sortKeys,
    /// ensure_ascii: ensureASCII)` produces. Floats print as Python's `repr` (`1e-05`, `0.1`,
    /// `3.0`). transformers writes `config.json` with indent 2, sorted keys and ensure_ascii, then
    /// appends a newline (not included here).
    public func pythonJSONString(indent: Int = 2, sortKeys: Bool = true, ensureASCII: Bool = true) -> String {
        var output = ""
        writePython(to: &output, indent: indent, level: 0, sortKeys: sortKeys, ensureASCII: ensureASCII)
        return output
    }

    /// The value with every object's keys in the order Python's `json.dumps(sort_keys=True)`
    /// gives: by code point, except the objects under `integerKeyedObjects`, whose keys were
    /// integers in Python (`id2label`, `added_tokens_decoder`) and sort by number. Serialize the
    /// result with `sortKeys: false`.
    public func sortedLikePython(integerKeyedObjects: Set<String> = []) -> JSONValue {
        func sorted(_ value: JSONValue, numericKeys: Bool) -> JSONValue {
            switch value {
            case .object(let object):
                let keys = object.keys.sorted { left, right in
                    if numericKeys, let l = Int(left), let r = Int(right) { return l < r }
                    return left.unicodeScalars.lexicographicallyPrecedes(right.unicodeScalars)
                }
                return .object(JSONObject(keys.map { ($0, sorted(object[$0]!, numericKeys: integerKeyedObjects.contains($0))) }))
            case .array(let values): return .array(values.map { sorted($0, numericKeys: false) })
            default: return value
            }
        }
        return sorted(self, numericKeys: false)
    }

    private func writeCompact(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .bigInteger(let digits): output += digits
        case .double(let value) where value.isNaN: output += "NaN"
        case .double(let value) where value.isInfinite: output += value < 0 ? "-Infinity" : "Infinity"
        case .double(let value): output += pythonFloatRepr(value)
        case .string(let value): writeJSONString(value, ensureASCII: false, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.writeCompact(to: &output)
            }
            output += "]"
        case .object(let object):
            output += "{"
            for (index, (key, value)) in object.enumerated() {
                if index > 0 { output += "," }
                writeJSONString(key, ensureASCII: false, to: &output)
                output += ":"
                value.writeCompact(to: &output)
            }
            output += "}"
        }
    }

    private func writePython(to output: inout String, indent: Int, level: Int, sortKeys: Bool, ensureASCII: Bool) {
        switch self {
        case .null, .bool, .int, .bigInteger: writeCompact(to: &output)
        case .double(let value):
            if value.isNaN {
                output += "NaN"
            } else if value.isInfinite {
                output += value < 0 ? "-Infinity" : "Infinity"
            } else {
                output += pythonFloatRepr(value)
            }
        case .string(let value): writeJSONString(value, ensureASCII: ensureASCII, to: &output)
        case .array(let values):
            guard !values.isEmpty else {
                output += "[]"
                return
            }
            let inner = "\n" + String(repeating: " ", count: indent * (level + 1))
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                output += inner
                value.writePython(to: &output, indent: indent, level: level + 1, sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            output += "\n" + String(repeating: " ", count: indent * level) + "]"
        case .object(let object):
            guard !object.isEmpty else {
                output += "{}"
                return
            }
            let inner = "\n" + String(repeating: " ", count: indent * (level + 1))
            // Python compares str keys by code point, which is UTF-8 byte order.
            let keys = sortKeys ? object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } : object.keys
            output += "{"
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                output += inner
                writeJSONString(key, ensureASCII: ensureASCII, to: &output)
                output += ": "
                object[key]!.writePython(to: &output, indent: indent, level: level + 1, sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            output += "\n" + String(repeating: " ", count: indent * level) + "}"
        }
    }
}

/// Writes a quoted JSON string. Without `ensureASCII` only `"`, `\` and control characters are
/// escaped (serde_json and Python agree on this); with it every character outside
/// U+0020...U+007E is escaped as Python does (surrogate pairs above U+FFFF).
func writeJSONString(_ string: String, ensureASCII: Bool, to output: inout String) {
    output += "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": output += "\\\""
        case "\\": output += "\\\\"
        case "\n": output += "\\n"
        case "\r": output += "\\r"
        case "\t": output += "\\t"
        case "\u{08}": output += "\\b"
        case "\u{0C}": output += "\\f"
        default:
            let value = scalar.value
            if value < 0x20 || (ensureASCII && value > 0x7E) {
                if value > 0xFFFF {
                    let offset = value - 0x10000
                    output += "\\u" + hex4(UInt16(0xD800 + (offset >> 10)))
                    output += "\\u" + hex4(UInt16(0xDC00 + (offset & 0x3FF)))
                } else {
                    output += "\\u" + hex4(UInt16(value))
                }
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
    }
    output += "\""
}

/// Python's `repr(float)` for a finite value: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in [-4, 16), otherwise scientific with a signed,
/// at-least-two-digit exponent.
func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    // Swift's description also prints the shortest round-trip digits; only the layout differs.
    var text = Substring(value.magnitude.description)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...])!
        text = text[..<e]
    }
    var digits: String
    var pointPosition: Int  // value = 0.<digits> * 10^pointPosition
    if let dot = text.firstIndex(of: ".") {
        let integerPart = text[..<dot]
        digits = String(integerPart) + text[text.index(after: dot)...]
        pointPosition = integerPart.count + exponent
    } else {
        digits = String(text)
        pointPosition = text.count + exponent
    }
    // Normalise: strip leading zeros (adjusting the point) and trailing zeros.
    while digits.count > 1, digits.first == "0" {
        digits.removeFirst()
        pointPosition -= 1
    }
    while digits.count > 1, digits.last == "0" { digits.removeLast() }
    let sign = value.sign == .minus ? "-" : ""
    if digits == "0" { return sign + "0.0" }
    if pointPosition > -4 && pointPosition <= 16 {
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }
    let scientificExponent = pointPosition - 1
    let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
    let exponentDigits = String(abs(scientificExponent))
    let paddedExponent = exponentDigits.count < 2 ? "0" + exponentDigits : exponentDigits
    return sign + mantissa + "e" + (scientificExponent < 0 ? "-" : "+") + paddedExponent
}
