import FileIO
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// The tokenizer files of a model directory: which are present, and reading them whole within
/// the limits every tokenizer file gets (a regular file of at most
/// `FileLimits.maxJSONFileBytes`; a FIFO or a device is refused, never waited on).
public struct TokenizerDirectory: Sendable {
    /// Every file transformers reads for the supported tokenizer classes, in the order it lists them.
    public static let knownFileNames = [
        "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json",
        "sentencepiece.bpe.model", "spiece.model", "vocab.json", "merges.txt", "vocab.txt",
    ]

    public let url: URL
    /// The known tokenizer files present, in `knownFileNames` order.
    public let fileNames: [String]

    public init(url: URL) {
        self.url = url
        fileNames = Self.knownFileNames.filter { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    public func contains(_ name: String) -> Bool { fileNames.contains(name) }

    public func path(of name: String) -> String { url.appendingPathComponent(name).path }

    /// The bytes of one file, read whole.
    public func contents(of name: String) throws(LSGError) -> Data {
        try RegularFile.contents(of: url.appendingPathComponent(name), maxBytes: FileLimits.maxJSONFileBytes)
    }

    /// A JSON file parsed as Python's `json` reads it.
    public func json(_ name: String) throws(LSGError) -> JSONValue {
        do {
            return try JSONValue.load(contentsOf: url.appendingPathComponent(name))
        } catch let error as LSGError {
            throw error
        } catch {
            throw LSGError(.malformed, file: path(of: name), "\(error)")
        }
    }

    /// A JSON file that must hold an object.
    func jsonObject(_ name: String) throws(LSGError) -> JSONObject {
        let value = try json(name)
        guard let object = value.objectValue else {
            throw LSGError(.malformed, file: path(of: name), "is a JSON \(value.typeName), expected an object")
        }
        return object
    }

    /// A text file, which must be UTF-8.
    func text(_ name: String) throws(LSGError) -> String {
        try RegularFile.text(of: url.appendingPathComponent(name), maxBytes: FileLimits.maxJSONFileBytes)
    }
}
