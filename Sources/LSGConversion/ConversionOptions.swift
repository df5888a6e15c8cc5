import Checkpoint
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// Everything a conversion can be told, with the reference converter's defaults. A recipe's
/// `options` and then the command line override these; the manifest records the result.
/// JSON keys are snake_case, like the reference's arguments and `config.json`.
public struct ConversionOptions: Sendable, Hashable, Codable {
    /// Model directory or Hugging Face name to convert.
    public var source: String = ""
    /// The new maximum sequence length (positions, without the family offset).
    public var maxLength: Int = 4096
    /// Output directory; nil means `./lsg-<name>-<maxLength>`.
    public var output: String?

    /// LSG settings (`LSGSetting.all`, by their `config.json` keys): one left out keeps the
    /// source's value (LSG sources) or the reference default.
    public var lsg = LSGOverrides()

    /// Stride between the source positions the global rows are initialised from.
    public var globalStride: Int = 64
    /// Sample global rows from a normal fitted to the word embeddings instead.
    public var randomGlobalInit: Bool = false
    /// Seed of every random draw (random global rows, padding rows of short position tables).
    public var seed: UInt64 = 123
    /// LSG sources: keep the existing first global row.
    public var keepFirstGlobalToken: Bool = false
    /// LSG sources: only resize the position table, keep the global rows.
    public var resizeLSG: Bool = false
    /// Convert even when the tensors outputs are computed from hold NaN or infinity.
    public var allowNonFinite: Bool = false
    /// Architecture (class name) to convert to; nil takes the first of `config.json`.
    public var architecture: String?
    /// Stored dtype of the output; nil is F32, what the reference writes for any source.
    public var dtype: DType?
    /// Largest shard in bytes; nil writes one file unless the source was sharded.
    public var maxShardSize: Int?
    /// Modeling file copied into the output for `auto_map`; nil points `auto_map` at the hub.
    public var modelingFile: String?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source
        case maxLength = "max_length"
        case output
        case globalStride = "global_stride"
        case randomGlobalInit = "random_global_init"
        case seed
        case keepFirstGlobalToken = "keep_first_global_token"
        case resizeLSG = "resize_lsg"
        case allowNonFinite = "allow_non_finite"
        case architecture
        case dtype
        case maxShardSize = "max_shard_size"
        case modelingFile = "modeling_file"
    }

    private static let leadingKeys: [CodingKeys] = [.source, .maxLength, .output]

    /// The option names a recipe or the command line may set, in manifest order: source,
    /// length and output, the LSG settings, then the conversion's own.
    public static let keys = leadingKeys.map(\.rawValue) + LSGSetting.all.map(\.key)
        + CodingKeys.allCases.filter { !leadingKeys.contains($0) }.map(\.rawValue)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let unknown = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)).subtracting(Self.keys)
        if let key = unknown.sorted().first {
            throw DecodingError.dataCorruptedError(forKey: AnyKey(key), in: try decoder.container(keyedBy: AnyKey.self),
                debugDescription: "unknown option '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
        }
        source = try container.decodeIfPresent(String.self, forKey: .source) ?? source
        maxLength = try container.decodeIfPresent(Int.self, forKey: .maxLength) ?? maxLength
        output = try container.decodeIfPresent(String.self, forKey: .output)
        let settings = try decoder.container(keyedBy: AnyKey.self)
        for setting in LSGSetting.all {
            let key = AnyKey(setting.key)
            switch setting.kind {
            case .bool: lsg[setting] = try settings.decodeIfPresent(Bool.self, forKey: key).map(LSGSettingValue.bool)
            case .integer: lsg[setting] = try settings.decodeIfPresent(Int.self, forKey: key).map(LSGSettingValue.integer)
            case .sparsityType:
                guard let name = try settings.decodeIfPresent(String.self, forKey: key) else { continue }
                guard let type = SparsityType(rawValue: name) else {
                    throw LSGError(.invalidOption, LSGSettingProblem.unknownSparsityType(name).message(.phrase))
                }
                lsg[setting] = .sparsityType(type)
            }
        }
        globalStride = try container.decodeIfPresent(Int.self, forKey: .globalStride) ?? globalStride
        randomGlobalInit = try container.decodeIfPresent(Bool.self, forKey: .randomGlobalInit) ?? randomGlobalInit
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        keepFirstGlobalToken = try container.decodeIfPresent(Bool.self, forKey: .keepFirstGlobalToken) ?? keepFirstGlobalToken
        resizeLSG = try container.decodeIfPresent(Bool.self, forKey: .resizeLSG) ?? resizeLSG
        allowNonFinite = try container.decodeIfPresent(Bool.self, forKey: .allowNonFinite) ?? allowNonFinite
        architecture = try container.decodeIfPresent(String.self, forKey: .architecture)
        dtype = try container.decodeIfPresent(DType.self, forKey: .dtype)
        maxShardSize = try container.decodeIfPresent(Int.self, forKey: .maxShardSize)
        modelingFile = try container.decodeIfPresent(String.self, forKey: .modelingFile)
    }

    /// The LSG settings of the output: these options over `base` (the source's settings for an
    /// LSG source, else the defaults), as the reference's config class leaves them.
    public func lsgConfig(over base: LSGConfig) -> LSGConfig {
        lsg.applied(to: base).normalized
    }

    /// Encodes every option that is set (`json` adds the rest as null).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(maxLength, forKey: .maxLength)
        try container.encodeIfPresent(output, forKey: .output)
        var settings = encoder.container(keyedBy: AnyKey.self)
        for (setting, value) in lsg.given {
            let key = AnyKey(setting.key)
            switch value {
            case .bool(let flag): try settings.encode(flag, forKey: key)
            case .integer(let number): try settings.encode(number, forKey: key)
            case .sparsityType(let type): try settings.encode(type.rawValue, forKey: key)
            }
        }
        try container.encode(globalStride, forKey: .globalStride)
        try container.encode(randomGlobalInit, forKey: .randomGlobalInit)
        try container.encode(seed, forKey: .seed)
        try container.encode(keepFirstGlobalToken, forKey: .keepFirstGlobalToken)
        try container.encode(resizeLSG, forKey: .resizeLSG)
        try container.encode(allowNonFinite, forKey: .allowNonFinite)
        try container.encodeIfPresent(architecture, forKey: .architecture)
        try container.encodeIfPresent(dtype, forKey: .dtype)
        try container.encodeIfPresent(maxShardSize, forKey: .maxShardSize)
        try container.encodeIfPresent(modelingFile, forKey: .modelingFile)
    }

    /// Problems found without reading anything: every one is reported, not only the first.
    public var problems: [String] { problems(requiringSource: true) }

    public func problems(requiringSource: Bool) -> [String] {
        var problems: [String] = []
        if requiringSource && source.isEmpty { problems.append("no source model given (--from)") }
        if maxLength < 1 { problems.append("max length must be positive (got \(maxLength))") }
        problems += lsg.problems.map { $0.message(.phrase) }
        if lsg[.maskFirstToken] == .bool(true), lsg[.poolWithGlobal] == .bool(false) {
            problems.append("--mask-first-token needs pooling with the global token (drop --no-pool-with-global)")
        }
        if globalStride < 1 { problems.append("global stride must be positive (got \(globalStride))") }
        if resizeLSG && keepFirstGlobalToken {
            problems.append("--keep-first-global-token has no effect with --resize-lsg (the global rows are kept)")
        }
        if randomGlobalInit && resizeLSG {
            problems.append("--random-global-init has no effect with --resize-lsg (the global rows are kept)")
        }
        if let dtype, ![DType.f32, .f16, .bf16].contains(dtype) {
            problems.append("output dtype must be F32, F16 or BF16 (got \(dtype.rawValue))")
        }
        if let maxShardSize, maxShardSize < 1 { problems.append("maximum shard size must be positive (got \(maxShardSize))") }
        if let modelingFile {
            do {
                _ = try LinkModelingCodeStage.checkedModelingFile(modelingFile)
            } catch {
                problems.append("\(error)")
            }
        }
        return problems
    }

    /// The default output directory: `lsg-<last path component>-<maxLength>` in `directory`.
    public func defaultOutput(in directory: URL) -> URL {
        let base = source.split(separator: "/").last.map(String.init) ?? "model"
        return directory.appendingPathComponent("lsg-\(base)-\(maxLength)")
    }

    /// These options as a JSON object (every key, nulls included), for manifests and plans.
    public var json: JSONObject {
        get throws {
            let data = try JSONEncoder().encode(self)
            guard let object = try JSONValue.parse(data).objectValue else { return JSONObject() }
            var complete = JSONObject()
            for key in Self.keys { complete[key] = object[key] ?? .null }
            return complete
        }
    }

    /// Options from a JSON object (a recipe's `options` merged with command-line settings).
    public init(json: JSONObject) throws {
        let data = Data(JSONValue.object(json).compactString().utf8)
        do {
            self = try JSONDecoder().decode(ConversionOptions.self, from: data)
        } catch let error as DecodingError {
            throw LSGError(.invalidOption, "bad options: \(error.summary)")
        }
    }

    /// The options of a run: the recipe's `options`, then `overrides` (the settings given on the
    /// command line) on top.
    public static func merged(recipe: Recipe, overrides: JSONObject) throws -> ConversionOptions {
        var object = recipe.options
        for (key, value) in overrides { object[key] = value }
        return try ConversionOptions(json: object)
    }

    /// Parses sizes like `200KB`, `5GB`, `1GiB`, `1048576` as transformers does (KB = 1000 bytes,
    /// KiB = 1024 bytes).
    public static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10),
                                      ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000), ("B", 1)]
        for (suffix, factor) in units where trimmed.uppercased().hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Int(number), value > 0 else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        return Int(trimmed).flatMap { $0 > 0 ? $0 : nil }
    }
}

private struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension DecodingError {
    /// One line: the coding path and what was wrong.
    var summary: String {
        func path(_ context: Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch self {
        case .typeMismatch(let type, let context):
            return "'\(path(context))' should be \(type): \(context.debugDescription)"
        case .valueNotFound(_, let context), .dataCorrupted(let context):
            return (path(context).isEmpty ? "" : "'\(path(context))': ") + context.debugDescription
        case .keyNotFound(let key, _):
            return "missing '\(key.stringValue)'"
        @unknown default:
            return "\(self)"
        }
    }
}
