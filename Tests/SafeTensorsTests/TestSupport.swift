import Foundation
import Testing

@testable import SafeTensors

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

enum Resources {
    static func url(_ path: String) throws -> URL {
        // The copied folder is the resource directory itself on Linux and inside it on macOS.
        let base = try #require(Bundle.module.resourceURL)
        let candidates = [base.appendingPathComponent(path), base.appendingPathComponent("Resources").appendingPathComponent(path)]
        let url = candidates.first { FileManager.default.fileExists(atPath: $0.path) }
        return try #require(url, "missing test resource \(path)")
    }
}

func bytes<T>(of values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

extension SafeTensorsWriter {
    /// Adds a tensor whose bytes are `values` in memory order.
    mutating func add<T: Sendable>(_ name: String, dtype: DType, shape: [Int], values: [T]) throws {
        try add(name, dtype: dtype, shape: shape) { sink in try values.withUnsafeBytes { try sink($0) } }
    }
}
