import ArgumentParser
import FileIO
import Foundation
import JSON
import SafeTensors

/// Texts given on the command line and, with `--text-file`, one per line of a UTF-8 file.
struct TextFileOption: ParsableArguments {
    @Option(help: "UTF-8 file with one text per line (a final newline ends the last line).")
    var textFile: String?

    /// The file's lines; a line that is not UTF-8 is refused, naming the file and the line.
    func lines() throws -> [String] {
        guard let textFile else { return [] }
        let data = try RegularFile.contents(of: URL(fileURLWithPath: textFile), maxBytes: FileLimits.maxJSONFileBytes)
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return try lines.enumerated().map { index, bytes in
            var bytes = bytes
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw ValidationError("\(textFile): line \(index + 1) is not valid UTF-8")
            }
            return line
        }
    }
}

/// A score as the text commands print it: 4 decimals, right-aligned.
func formattedScore(_ score: Float) -> String { String(format: "%8.4f", Double(score)) }

/// A string in JSON quotes, so that spaces and control characters in a token show.
func jsonQuoted(_ text: String) -> String { JSONValue.string(text).compactString() }
