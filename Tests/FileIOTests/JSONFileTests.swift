import FileIO
import Foundation
import JSON
import TestSupport
import Testing

@Suite struct JSONFileTests {
    @Test func loadNamesTheFile() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let url = directory.file("config.json")
        try Data(#"{"a": [1, }"#.utf8).write(to: url)
        expectFileError(naming: url.path, containing: "not valid JSON: unexpected character '}' at byte 10") {
            _ = try JSONValue.load(contentsOf: url)
        }
        expectFileError(naming: directory.file("none.json").path, containing: "cannot read") {
            _ = try JSONValue.load(contentsOf: directory.file("none.json"))
        }
    }

    @Test func warnsOfEachDuplicateKeyNamingTheFile() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let url = directory.file("tokenizer_config.json")
        try Data(#"{"model_max_length": 512, "model_max_length": 1000000000000000019884624838656}"#.utf8).write(to: url)
        var warnings: [String] = []
        let value = try JSONValue.load(contentsOf: url) { warnings.append($0) }
        #expect(value["model_max_length"] == .bigInteger("1000000000000000019884624838656"))
        #expect(warnings == ["\(url.path): duplicate key \"model_max_length\" at byte 26; the last value is used, as Python's json does"])
    }
}
