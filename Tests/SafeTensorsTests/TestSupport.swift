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

/// Runs `body`, requires a SafeTensorsError, and checks it is one line naming `file`.
@discardableResult
func expectSafeTensorsError(naming file: String, containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> SafeTensorsError? {
    do {
        try body()
        Issue.record("expected a SafeTensorsError containing \"\(fragment)\"", sourceLocation: sourceLocation)
        return nil
    } catch let error as SafeTensorsError {
        let text = error.description
        #expect(!text.contains("\n"), "error spans lines: \(text)", sourceLocation: sourceLocation)
        #expect(text.hasPrefix(file + ": "), "error does not start with the file name: \(text)", sourceLocation: sourceLocation)
        #expect(text.contains(fragment), "error \"\(text)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a SafeTensorsError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension SafeTensorsWriter {
    /// Adds a tensor whose bytes are `values` in memory order.
    mutating func add<T: Sendable>(_ name: String, dtype: DType, shape: [Int], values: [T]) throws {
        try add(name, dtype: dtype, shape: shape) { sink in try values.withUnsafeBytes { try sink($0) } }
    }
}
