import Foundation
import JSON
import LSGErrors

extension JSONValue {
    /// Reads and parses a JSON file that Python wrote (a regular file of at most `maxBytes`), as
    /// Python's `json.load` reads it; errors name the file (`<path>: <problem>`), and each
    /// duplicate key is passed to `warn` as one line naming the file and the key.
    public static func load(contentsOf url: URL, maxBytes: Int = FileLimits.maxJSONFileBytes,
                            warn: (String) -> Void = JSONWarnings.printToStandardError) throws -> JSONValue {
        try parseFile(try RegularFile.contents(of: url, maxBytes: maxBytes), name: url.path, warn: warn)
    }

    /// Parses the bytes of a file Python wrote; `name` is the file named in errors and warnings.
    public static func parseFile(_ data: Data, name: String,
                                 warn: (String) -> Void = JSONWarnings.printToStandardError) throws -> JSONValue {
        let document: JSONDocument
        do {
            document = try parseDocument(data, syntax: .python)
        } catch {
            throw LSGError(.malformed, file: name, "not valid JSON: \(error)")
        }
        for duplicate in document.duplicateKeys {
            warn("\(name): duplicate key \(duplicate.key) at byte \(duplicate.offset); the last value is used, as Python's json does")
        }
        return document.value
    }
}

public enum JSONWarnings {
    @Sendable public static func printToStandardError(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
