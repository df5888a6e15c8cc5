import Checkpoint
import Foundation
import JSON
import LSGConversion
import SafeTensors
import Testing

/// Paths and helpers shared by the conversion tests.
enum ConversionFixtures {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = repository.appendingPathComponent("golden")
    static let conversions = golden.appendingPathComponent("conversions")
    static let fixtures = golden.appendingPathComponent("fixtures")

    /// A fresh empty directory under the system temporary directory.
    static func temporaryDirectory(_ label: String = #function) throws -> URL {
        let safe = label.filter { $0.isLetter || $0.isNumber || $0 == "-" }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lsg-conversion-tests-\(safe)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Copies a fixture into a scratch directory so a test may alter it.
    static func copyFixture(_ name: String, into parent: URL) throws -> URL {
        let target = parent.appendingPathComponent(name)
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: target)
        return target
    }

    /// A conversion of `source` (a directory) into `output` with the standard recipe of its family.
    static func conversion(source: URL, output: URL, configure: (inout ConversionOptions) -> Void = { _ in }) throws -> Conversion {
        var options = ConversionOptions()
        options.source = source.path
        options.output = output.path
        options.maxLength = 1024
        configure(&options)
        let config = try ModelConfig.load(from: source.appendingPathComponent("config.json"))
        let recipe = Recipe.standard(for: config.family ?? .camembert)
        return Conversion(options: options, recipe: recipe, toolVersion: "test")
    }

    /// A reference call as `case.json` records it (`init`, `convert_from_pretrained`,
    /// `save_pretrained`; golden/SCHEMA.md) in our option names, converting `source` into `output`.
    static func options(referenceCall call: JSONValue, source: String, output: URL) throws -> ConversionOptions {
        let initArguments = try #require(call["init"])
        var options = ConversionOptions()
        options.source = source
        options.output = output.path
        options.maxLength = try #require(initArguments["max_sequence_length"]?.intValue)
        options.randomGlobalInit = initArguments["random_global_init"]?.boolValue ?? false
        options.globalStride = initArguments["global_positional_stride"]?.intValue ?? 64
        options.keepFirstGlobalToken = initArguments["keep_first_global_token"]?.boolValue ?? false
        options.resizeLSG = initArguments["resize_lsg"]?.boolValue ?? false
        let convert = try #require(call["convert_from_pretrained"]?.objectValue)
        options.architecture = convert["architecture"]?.stringValue
        options.lsg = try LSGOverrides(json: JSONObject(convert.filter { LSGSetting.named($0.key) != nil && $0.value != .null }))
        if let size = call["save_pretrained"]?["max_shard_size"]?.stringValue {
            options.maxShardSize = ConversionOptions.parseSize(size)
            #expect(options.maxShardSize != nil, "max_shard_size \(size)")
        }
        return options
    }

    static func sha256(of url: URL) throws -> String {
        try TensorHashing.sha256Hex(fileAt: url)
    }
}
