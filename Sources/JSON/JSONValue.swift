import OrderedCollections

/// A JSON document as parsed by `JSONValue.parse`: integers stay exact whatever their size,
/// objects keep their key order (and equal each other regardless of it, like Python dicts).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent, within the 64-bit range.
    case int(Int)
    /// An integer outside the 64-bit range (Python reads any size), as its canonical decimal
    /// digits (`-` sign, no leading zeros), so that it is written back exactly.
    case bigInteger(String)
    /// A number written with a fraction or exponent (Python reads it as a float).
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { object } else { nil }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { array } else { nil }
    }

    public var stringValue: String? {
        if case .string(let string) = self { string } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let bool) = self { bool } else { nil }
    }

    /// The value of an integer literal (a float such as `2.0` is not an integer).
    public var intValue: Int? {
        if case .int(let int) = self { int } else { nil }
    }

    /// Any number as a Double (integers convert, possibly rounding beyond 2^53, as Python's
    /// `float(int)` does).
    public var doubleValue: Double? {
        switch self {
        case .int(let int): Double(int)
        case .bigInteger(let digits): Double(digits)
        case .double(let double): double
        default: nil
        }
    }

    public var isNull: Bool { self == .null }

    /// Equal documents: like the synthesized equality, except that a NaN equals a NaN, so that a
    /// document holding `NaN` (which Python reads) equals itself and its re-read copy.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.bigInteger(let a), .bigInteger(let b)): a == b
        case (.double(let a), .double(let b)): a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(1); hasher.combine(value)
        case .int(let value): hasher.combine(2); hasher.combine(value)
        case .bigInteger(let digits): hasher.combine(3); hasher.combine(digits)
        case .double(let value): hasher.combine(4); hasher.combine(value.isNaN ? .nan : value)
        case .string(let value): hasher.combine(5); hasher.combine(value)
        case .array(let values): hasher.combine(6); hasher.combine(values)
        case .object(let object): hasher.combine(7); hasher.combine(object)
        }
    }

    /// The JSON type name used in error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .bigInteger: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object: unique keys in insertion order, like a Python dict.
public struct JSONObject: Sendable, Hashable, Sequence {
    private var storage: OrderedDictionary<String, JSONValue> = [:]

    public init() {}

    /// Builds an object from pairs; a repeated key keeps its first position and last value.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSONValue) {
        for (key, value) in pairs { self[key] = value }
    }

    public var keys: [String] { Array(storage.keys) }
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    /// Setting nil removes the key; setting a new key appends it; setting an existing key keeps
    /// its position (as assigning to a Python dict does).
    public subscript(key: String) -> JSONValue? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSONValue)> {
        storage.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
    }

    /// Equal when they hold the same pairs in any order, as Python dicts compare.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.count == rhs.count && lhs.storage.allSatisfy { rhs.storage[$0.key] == $0.value }
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent, to agree with ==.
        var combined = 0
        for (key, value) in storage {
            var pair = Hasher()
            pair.combine(key)
            pair.combine(value)
            combined ^= pair.finalize()
        }
        hasher.combine(storage.count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}
