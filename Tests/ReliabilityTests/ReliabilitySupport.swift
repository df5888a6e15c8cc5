import Checkpoint
import Foundation
import Testing
import TestSupport

/// A copy of a bundled fixture model directory that a test may damage.
func copyFixture(_ name: String = "camembert-tiny", to destination: URL) throws -> URL {
    try FileManager.default.copyItem(at: goldenDirectory.appendingPathComponent("fixtures/\(name)"), to: destination)
    return destination
}

/// sha256 of every file under `directory`, by relative path.
func digests(of directory: URL) throws -> [String: String] {
    var result: [String: String] = [:]
    let manager = FileManager.default
    guard let enumerator = manager.enumerator(atPath: directory.path) else { return result }
    for case let path as String in enumerator {
        let url = directory.appendingPathComponent(path)
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
        let attributes = try manager.attributesOfItem(atPath: url.path)
        if attributes[.type] as? FileAttributeType == .typeRegular {
            result[path] = try TensorHashing.sha256Hex(fileAt: url)
        } else {
            result[path] = "\(attributes[.type] ?? "special")"
        }
    }
    return result
}

/// Entries of `directory`, sorted (hidden ones included).
func entries(of directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
}

/// Checks a refused run: exit status 1...127, exactly one error line containing each fragment.
func expectRefusal(_ result: CommandResult, containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((1...127).contains(result.status), "exit status \(result.status): \(result.standardError)", sourceLocation: sourceLocation)
    #expect(result.errorLines.count == 1, "not one error line: \(result.standardError)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(result.standardError.contains(fragment), "error lacks \"\(fragment)\": \(result.standardError)",
                sourceLocation: sourceLocation)
    }
}
