import Checkpoint
import Foundation
import LSGConversion
import SafeTensors

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

    static func sha256(of url: URL) throws -> String {
        try TensorHashing.sha256Hex(fileAt: url)
    }
}
