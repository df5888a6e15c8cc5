import JSON
import LSGErrors

/// The fields of one component object of a tokenizer.json (a normalizer, a pre-tokenizer, ...),
/// read with one-line errors naming the component and the key.
struct ComponentFields {
    let object: JSONObject
    let path: String
    /// How errors name the component: `normalizer Replace`.
    let context: String

    /// The object `value` of component kind `kind` (`normalizer`), and its `type`.
    init(_ value: JSONValue, kind: String, path: String) throws(LSGError) {
        guard let object = value.objectValue else {
            throw LSGError(.malformed, file: path, "\(kind) is a JSON \(value.typeName), expected an object")
        }
        guard let type = object["type"]?.stringValue else {
            throw LSGError(.malformed, file: path, "\(kind) has no \"type\" string")
        }
        self.object = object
        self.path = path
        self.context = "\(kind) \(type)"
        self.type = type
        self.kind = kind
    }

    let type: String
    let kind: String

    func unknownType() -> LSGError { LSGError(.unsupported, file: path, "unknown \(kind) type '\(type)'") }

    func fail(_ key: String, _ value: JSONValue, expected: String) -> LSGError {
        LSGError(.malformed, file: path, "\(context) \"\(key)\" is a JSON \(value.typeName), expected \(expected)")
    }

    func string(_ key: String) throws(LSGError) -> String {
        guard let value = object[key] else { throw LSGError(.malformed, file: path, "\(context) has no \"\(key)\"") }
        guard let string = value.stringValue else { throw fail(key, value, expected: "a string") }
        return string
    }

    /// A string that may be absent or null.
    func optionalString(_ key: String) throws(LSGError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw fail(key, value, expected: "a string or null") }
        return string
    }

    func bool(_ key: String, default fallback: Bool) throws(LSGError) -> Bool {
        guard let value = object[key], !value.isNull else { return fallback }
        guard let bool = value.boolValue else { throw fail(key, value, expected: "a boolean") }
        return bool
    }

    /// A boolean that may be null (BertNormalizer's `strip_accents`).
    func optionalBool(_ key: String) throws(LSGError) -> Bool? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw fail(key, value, expected: "a boolean or null") }
        return bool
    }

    func int(_ key: String, default fallback: Int? = nil) throws(LSGError) -> Int {
        guard let value = object[key], !value.isNull else {
            if let fallback { return fallback }
            throw LSGError(.malformed, file: path, "\(context) has no \"\(key)\"")
        }
        guard let int = value.intValue, int >= 0 else { throw fail(key, value, expected: "a non-negative integer") }
        return int
    }

    func array(_ key: String) throws(LSGError) -> [JSONValue] {
        guard let value = object[key] else { throw LSGError(.malformed, file: path, "\(context) has no \"\(key)\"") }
        guard let array = value.arrayValue else { throw fail(key, value, expected: "a list") }
        return array
    }

    /// A single scalar (Metaspace's `replacement`, Strip's `content`).
    func scalar(_ key: String) throws(LSGError) -> Unicode.Scalar {
        let string = try string(key)
        guard string.unicodeScalars.count == 1, let scalar = string.unicodeScalars.first else {
            throw LSGError(.malformed, file: path, "\(context) \"\(key)\" must be one character, not \(JSONValue.string(string).compactString())")
        }
        return scalar
    }

    /// A `{"String": ...}` or `{"Regex": ...}` pattern.
    func pattern(_ key: String) throws(LSGError) -> TextPattern {
        guard let value = object[key] else { throw LSGError(.malformed, file: path, "\(context) has no \"\(key)\"") }
        if let literal = value["String"]?.stringValue { return .literal(Array(literal.unicodeScalars)) }
        if let source = value["Regex"]?.stringValue {
            guard let regex = RegexPattern(source) else {
                throw LSGError(.unsupported, file: path, "\(context) regex \(JSONValue.string(source).compactString()) is not supported")
            }
            return .regex(regex)
        }
        throw fail(key, value, expected: "{\"String\": ...} or {\"Regex\": ...}")
    }
}
