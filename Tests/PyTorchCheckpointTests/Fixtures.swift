import Foundation
import Testing

/// The resources written by `Resources/make_fixtures.py` and `Resources/make_legacy_fixtures.py`.
enum Fixtures {
    static func url(_ relativePath: String) throws -> URL {
        // Foundation on Linux reports the copied Resources folder itself as the resource URL.
        let base = try #require(Bundle.module.resourceURL)
        let candidates = [base.appendingPathComponent(relativePath), base.appendingPathComponent("Resources/\(relativePath)")]
        return try #require(candidates.first { FileManager.default.fileExists(atPath: $0.path) }, "missing test resource \(relativePath)")
    }

    /// The file a hostile payload would create if it ever ran.
    static let payloadMarker = "/tmp/lsg-convert-pytorch-fixture-payload-ran"

    /// The golden CamemBERT fixture the `.bin` resources were saved from.
    static let camembertSafeTensors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("golden/fixtures/camembert-tiny/model.safetensors")
}
