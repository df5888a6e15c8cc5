import JSON
import LSGErrors

/// How the sparse context of LSG attention is selected.
public enum SparsityType: String, Sendable, CaseIterable, Codable {
    case none, norm, pooling, lsh, stride
    case blockStride = "block_stride"
    case bosPooling = "bos_pooling"
}

/// The LSG fields of `config.json`, with the reference's defaults. Their keys, ranges and help
/// are in `LSGSetting.all`.
public struct LSGConfig: Sendable, Hashable {
    public var adaptive = true
    public var baseModelPrefix = "lsg"
    public var blockSize = 128
    public var lshNumPreRounds = 1
    public var maskFirstToken = false
    public var numGlobalTokens = 1
    public var poolWithGlobal = true
    public var sparseBlockSize = 128
    public var sparsityFactor = 2
    public var sparsityType: SparsityType = .norm
    /// Encoder-decoder families only (see `hasDecoder`).
    public var passGlobalTokensToDecoder = true
    /// Whether the model has a decoder, so that its config has the decoder-only settings.
    public var hasDecoder = false

    /// The reference's global-token table has this many rows.
    public static let maxGlobalTokens = 512
    static let baseModelPrefixKey = "base_model_prefix"

    public init() {}

    /// The config.json keys this type owns, sorted.
    public static let keys = ([baseModelPrefixKey] + LSGSetting.all.map(\.key)).sorted()

    /// The keys a config of a model with or without a decoder has, sorted.
    public static func keys(hasDecoder: Bool) -> [String] {
        ([baseModelPrefixKey] + LSGSetting.all(hasDecoder: hasDecoder).map(\.key)).sorted()
    }

    /// Reads the keys present, defaults for the rest. A null or unknown `sparsity_type` reads as
    /// `none`, which is what the reference's model does with it.
    init(reading json: JSONObject, hasDecoder: Bool) {
        self.hasDecoder = hasDecoder
        baseModelPrefix = json[Self.baseModelPrefixKey]?.stringValue ?? baseModelPrefix
        for setting in LSGSetting.all {
            guard let stored = json[setting.key] else { continue }
            if let value = try? setting.value(json: stored) {
                setting.set(value, in: &self)
            } else if setting.kind == .sparsityType {
                sparsityType = .none
            }
        }
    }

    /// Writes every key, in sorted order (where the object has no such key yet).
    func write(into json: inout JSONObject) {
        var values = [Self.baseModelPrefixKey: JSONValue.string(baseModelPrefix)]
        for setting in LSGSetting.all(hasDecoder: hasDecoder) { values[setting.key] = setting.value(in: self).json }
        for key in Self.keys(hasDecoder: hasDecoder) { json[key] = values[key] }
    }

    /// The settings as the reference's config class leaves them: `num_global_tokens` clamped
    /// to 1...512 and `pool_with_global` forced on by `mask_first_token`.
    public var normalized: LSGConfig {
        var copy = self
        copy.numGlobalTokens = min(max(numGlobalTokens, 1), Self.maxGlobalTokens)
        if maskFirstToken { copy.poolWithGlobal = true }
        return copy
    }

    /// Problems that make the settings unusable (the reference asserts on the first), in
    /// `config.json` words.
    public var problems: [String] { settingProblems.map { $0.message(.key) } }

    /// Every setting out of range, in table order, the block/factor rule after the factor.
    public var settingProblems: [LSGSettingProblem] {
        var problems: [LSGSettingProblem] = []
        for setting in LSGSetting.all {
            if let problem = setting.problem(with: setting.value(in: self)) { problems.append(problem) }
            if setting == .sparsityFactor, let problem = indivisibleBlock { problems.append(problem) }
        }
        return problems
    }

    /// `block_size % sparsity_factor == 0`, which the reference asserts.
    private var indivisibleBlock: LSGSettingProblem? {
        guard blockSize >= 1, sparsityFactor >= 1, blockSize % sparsityFactor != 0 else { return nil }
        return LSGSettingProblem(.blockSize, .indivisibleBlock(blockSize, factor: sparsityFactor))
    }

    /// Refuses LSG keys of the wrong JSON type (null is allowed: it reads as the default; any
    /// `sparsity_type` reads, as `none` when unknown).
    static func check(_ object: JSONObject, name: String) throws {
        for setting in LSGSetting.all.sorted(by: { $0.key < $1.key }) {
            let expected: String
            switch setting.kind {
            case .bool: expected = "a boolean"
            case .integer: expected = "an integer"
            case .sparsityType: continue
            }
            if let value = object[setting.key], value != .null, (try? setting.value(json: value)) == nil {
                throw LSGError(.malformed, file: name, "\"\(setting.key)\" is a JSON \(value.typeName), expected \(expected)")
            }
        }
    }
}
