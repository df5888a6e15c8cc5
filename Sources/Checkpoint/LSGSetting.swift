import JSON

/// One LSG attention setting: its `config.json` key (also the recipe option and the golden
/// override key), its command-line flag, its type and allowed values, and its help. `all` is
/// the one table of them: config reading, writing and checks, encoder overrides, conversion
/// options, the command-line options, golden overrides and the model card go through it.
/// Defaults are `LSGConfig`'s initial values (the reference's).
public struct LSGSetting: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case bool
        /// An integer of at least `minimum` and, when given, at most `maximum`.
        case integer(minimum: Int, maximum: Int?)
        /// One of `SparsityType`'s names.
        case sparsityType
    }

    /// The `config.json` key, e.g. `block_size`.
    public let key: String
    /// How conversion messages name it, e.g. "block size".
    public let phrase: String
    public let help: String
    /// Whether only encoder-decoder families have it (BART's `pass_global_tokens_to_decoder`).
    public let decoderOnly: Bool
    private let field: Field

    private enum Field: Sendable {
        case bool(WritableKeyPath<LSGConfig, Bool> & Sendable)
        case integer(WritableKeyPath<LSGConfig, Int> & Sendable, minimum: Int, maximum: Int?)
        case sparsityType
    }

    public static let blockSize = LSGSetting(
        "block_size", "block size", .integer(\.blockSize, minimum: 1, maximum: nil),
        help: "Local attention block size (reference default \(LSGConfig().blockSize)).")
    public static let sparseBlockSize = LSGSetting(
        "sparse_block_size", "sparse block size", .integer(\.sparseBlockSize, minimum: 0, maximum: nil),
        help: "Sparse attention block size; 0 disables sparse attention (reference default \(LSGConfig().sparseBlockSize)).")
    public static let sparsityFactor = LSGSetting(
        "sparsity_factor", "sparsity factor", .integer(\.sparsityFactor, minimum: 1, maximum: nil),
        help: "Sparsity factor; must divide the block size (reference default \(LSGConfig().sparsityFactor)).")
    public static let sparsityType = LSGSetting(
        "sparsity_type", "sparsity type", .sparsityType,
        help: "Sparse selection: \(SparsityType.names.joined(separator: ", ")) (reference default \(LSGConfig().sparsityType.rawValue)).")
    public static let numGlobalTokens = LSGSetting(
        "num_global_tokens", "number of global tokens",
        .integer(\.numGlobalTokens, minimum: 1, maximum: LSGConfig.maxGlobalTokens),
        help: "Number of global tokens, 1 to \(LSGConfig.maxGlobalTokens) (reference default \(LSGConfig().numGlobalTokens)).")
    public static let maskFirstToken = LSGSetting(
        "mask_first_token", "mask first token", .bool(\.maskFirstToken),
        help: "Mask the first token (it duplicates the first global token).")
    public static let poolWithGlobal = LSGSetting(
        "pool_with_global", "pool with global", .bool(\.poolWithGlobal),
        help: "Copy the first global output onto the first token (reference default on).")
    public static let adaptive = LSGSetting(
        "adaptive", "adaptive", .bool(\.adaptive),
        help: "Pad sequences to a block multiple automatically (reference default on).")
    public static let lshNumPreRounds = LSGSetting(
        "lsh_num_pre_rounds", "lsh pre-rounds", .integer(\.lshNumPreRounds, minimum: 0, maximum: nil),
        help: "LSH pre-rounds (sparsity type lsh; reference default \(LSGConfig().lshNumPreRounds)).")
    public static let passGlobalTokensToDecoder = LSGSetting(
        "pass_global_tokens_to_decoder", "pass global tokens to decoder", .bool(\.passGlobalTokensToDecoder),
        help: "Encoder-decoder families: the decoder attends to the global tokens' outputs too (reference default on).",
        decoderOnly: true)

    /// Every setting, in the order options list them.
    public static let all: [LSGSetting] = [
        .blockSize, .sparseBlockSize, .sparsityFactor, .sparsityType, .numGlobalTokens, .maskFirstToken, .poolWithGlobal,
        .adaptive, .lshNumPreRounds, .passGlobalTokensToDecoder,
    ]

    /// The settings a model has: all of them with a decoder, else those of encoders.
    public static func all(hasDecoder: Bool) -> [LSGSetting] { all.filter { hasDecoder || !$0.decoderOnly } }

    private init(_ key: String, _ phrase: String, _ field: Field, help: String, decoderOnly: Bool = false) {
        self.key = key
        self.phrase = phrase
        self.field = field
        self.help = help
        self.decoderOnly = decoderOnly
    }

    public static func named(_ key: String) -> LSGSetting? { all.first { $0.key == key } }

    /// The command-line flag, e.g. `--block-size`.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    public var kind: Kind {
        switch field {
        case .bool: return .bool
        case .integer(_, let minimum, let maximum): return .integer(minimum: minimum, maximum: maximum)
        case .sparsityType: return .sparsityType
        }
    }

    public var defaultValue: LSGSettingValue { value(in: LSGConfig()) }

    public func value(in config: LSGConfig) -> LSGSettingValue {
        switch field {
        case .bool(let path): return .bool(config[keyPath: path])
        case .integer(let path, _, _): return .integer(config[keyPath: path])
        case .sparsityType: return .sparsityType(config.sparsityType)
        }
    }

    /// Sets the value; a value of another type than the setting's is a programming error.
    public func set(_ value: LSGSettingValue, in config: inout LSGConfig) {
        switch (field, value) {
        case (.bool(let path), .bool(let flag)): config[keyPath: path] = flag
        case (.integer(let path, _, _), .integer(let number)): config[keyPath: path] = number
        case (.sparsityType, .sparsityType(let type)): config.sparsityType = type
        default: preconditionFailure("\(key) cannot hold \(value)")
        }
    }

    /// The value of a JSON value of the setting's type; nil for another type. A sparsity type
    /// that is not one of the known names is an error.
    public func value(json: JSONValue) throws(LSGSettingProblem) -> LSGSettingValue? {
        switch field {
        case .bool: return json.boolValue.map(LSGSettingValue.bool)
        case .integer: return json.intValue.map(LSGSettingValue.integer)
        case .sparsityType:
            guard let name = json.stringValue else { return nil }
            guard let type = SparsityType(rawValue: name) else { throw LSGSettingProblem(self, .unknownName(name)) }
            return .sparsityType(type)
        }
    }

    /// The problem with `value` when it is outside the setting's range.
    public func problem(with value: LSGSettingValue) -> LSGSettingProblem? {
        guard case .integer(_, let minimum, let maximum) = field, case .integer(let number) = value else { return nil }
        if number < minimum { return LSGSettingProblem(self, .belowMinimum(number, minimum: minimum, maximum: maximum)) }
        if let maximum, number > maximum { return LSGSettingProblem(self, .aboveMaximum(number, minimum: minimum, maximum: maximum)) }
        return nil
    }

    public static func == (lhs: LSGSetting, rhs: LSGSetting) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}

/// A value of an LSG setting.
public enum LSGSettingValue: Sendable, Hashable {
    case bool(Bool)
    case integer(Int)
    case sparsityType(SparsityType)

    public var json: JSONValue {
        switch self {
        case .bool(let flag): return .bool(flag)
        case .integer(let number): return .int(number)
        case .sparsityType(let type): return .string(type.rawValue)
        }
    }
}

extension SparsityType {
    /// Every name, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }
}
