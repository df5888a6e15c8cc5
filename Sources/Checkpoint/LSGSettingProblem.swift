import JSON

/// An LSG setting's value that is out of range, of the wrong type or unknown. The one place
/// that decides which values are allowed is `LSGSetting` (ranges) and `LSGConfig` (the
/// block/factor rule); each surface words the problem in its own vocabulary (`Naming`).
public struct LSGSettingProblem: Error, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case belowMinimum(Int, minimum: Int, maximum: Int?)
        case aboveMaximum(Int, minimum: Int, maximum: Int?)
        /// A sparsity type that is not one of `SparsityType`'s names.
        case unknownName(String)
        case wrongType(JSONValue)
        /// `block_size` (the setting) not divisible by `sparsity_factor`.
        case indivisibleBlock(Int, factor: Int)
    }

    /// How a message names the setting.
    public enum Naming: Sendable {
        /// `block_size`, as `config.json` and golden overrides name it.
        case key
        /// "block size", as conversion options messages name it.
        case phrase
        /// `--block-size`, as the command line names it.
        case flag
    }

    public let setting: LSGSetting
    public let kind: Kind

    init(_ setting: LSGSetting, _ kind: Kind) {
        self.setting = setting
        self.kind = kind
    }

    public static func unknownSparsityType(_ name: String) -> LSGSettingProblem {
        LSGSettingProblem(.sparsityType, .unknownName(name))
    }

    public func message(_ naming: Naming) -> String {
        let name = switch naming {
        case .key: setting.key
        case .phrase: setting.phrase
        case .flag: setting.flag
        }
        let known = SparsityType.names.joined(separator: ", ")
        switch (kind, naming) {
        case (.belowMinimum(let value, let minimum, _), .flag): return "\(name) must be at least \(minimum) (got \(value))"
        case (.aboveMaximum(let value, _, let maximum?), .flag): return "\(name) must be at most \(maximum) (got \(value))"
        case (.belowMinimum(let value, let minimum, let maximum), _), (.aboveMaximum(let value, let minimum, let maximum), _):
            let requirement = switch (minimum, maximum) {
            case (_, let maximum?): "be between \(minimum) and \(maximum)"
            case (1, nil): "be positive"
            case (0, nil): "not be negative"
            default: "be at least \(minimum)"
            }
            return "\(name) must \(requirement) (got \(value))"
        case (.unknownName(let given), .flag): return "\(name) must be one of \(known) (got '\(given)')"
        case (.unknownName(let given), .phrase): return "unknown \(name) '\(given)' (one of \(known))"
        case (.unknownName, .key): return "\(name) is not one of \(known)"
        case (.wrongType, _):
            switch setting.kind {
            case .bool: return "\(name) is not a boolean"
            case .integer: return "\(name) is not an integer"
            case .sparsityType: return "\(name) is not one of \(known)"
            }
        case (.indivisibleBlock(let block, let factor), .phrase):
            return "\(name) \(block) is not divisible by \(LSGSetting.sparsityFactor.phrase) \(factor)"
        case (.indivisibleBlock(let block, let factor), _):
            return "\(name) (\(block)) must be divisible by \(LSGSetting.sparsityFactor.key) (\(factor))"
        }
    }
}
