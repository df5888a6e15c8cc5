import Foundation
import JSON
import Testing
import TestSupport
import Zstd

/// `lsg-convert tokenize` against the ids transformers recorded in the tokenizer corpus, and its
/// refusals.
@Suite struct TokenizeCommandTests {
    static func corpusRecord(_ name: String) throws -> JSONValue {
        let data = try Zstd.decompressFile(at: goldenDirectory.appendingPathComponent("tokenizers/corpus/cases.json.zst"))
        let document = try JSONValue.parse(data)
        return try #require(document["tokenizers"]?.arrayValue?.first { $0["name"]?.stringValue == name })
    }

    @Test(arguments: ["camembert-tiny", "roberta-tiny", "bert-tiny"])
    func jsonMatchesTransformers(fixture: String) throws {
        let record = try Self.corpusRecord(fixture)
        let singles = try #require(record["singles"]?.arrayValue).filter {
            guard let text = $0["text"]?.stringValue else { return false }
            return !text.isEmpty && !text.contains("\n") && text.count < 200
        }.prefix(6)
        let texts = singles.compactMap { $0["text"]?.stringValue }
        let result = try runTool(["tokenize", goldenDirectory.appendingPathComponent("fixtures/\(fixture)").path, "--json"] + texts)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("{\"input_ids\": [["))
        let output = try JSONValue.parse(result.standardOutput)
        #expect(output.objectValue?.keys == ["input_ids", "attention_mask", "tokens"])
        for (row, single) in singles.enumerated() {
            #expect(output["input_ids"]?.arrayValue?[row] == single["input_ids"], "\(fixture) text \(row)")
            #expect(output["tokens"]?.arrayValue?[row] == single["tokens"], "\(fixture) text \(row)")
            #expect(output["attention_mask"]?.arrayValue?[row] == single["attention_mask"], "\(fixture) text \(row)")
        }
    }

    @Test func paddingAndTruncationFollowTheOptions() throws {
        let fixture = goldenDirectory.appendingPathComponent("fixtures/bert-tiny").path
        let result = try runTool(["tokenize", fixture, "--json", "--max-length", "6", "--padding", "a", "a much longer text than six tokens"])
        #expect(result.status == 0, "\(result.standardError)")
        let output = try JSONValue.parse(result.standardOutput)
        let masks = try #require(output["attention_mask"]?.arrayValue).map { $0.arrayValue?.compactMap(\.intValue) ?? [] }
        #expect(masks.map(\.count) == [6, 6])
        #expect(masks[1] == [1, 1, 1, 1, 1, 1])
        #expect(masks[0].contains(0))
    }

    @Test func invalidUTF8IsOneLineNamingTheFileAndLine() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("texts.txt")
        try Data("fine\n".utf8 + [0xFF, 0xFE, 0x41, 0x0A]).write(to: file)
        let result = try runTool(["tokenize", goldenDirectory.appendingPathComponent("fixtures/bert-tiny").path, "--text-file", file.path])
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.contains("\(file.path): line 2 is not valid UTF-8") == true, "\(result.standardError)")
    }

    @Test func aTextPastTheModelLengthNeedsMaxLength() throws {
        let fixture = goldenDirectory.appendingPathComponent("fixtures/bert-tiny").path
        let long = String(repeating: "word ", count: 600)
        let refused = try runTool(["tokenize", fixture, long])
        #expect(refused.status != 0)
        #expect(refused.errorLines.count == 1)
        #expect(refused.standardError.contains("pass --max-length"), "\(refused.standardError)")
        let truncated = try runTool(["tokenize", fixture, "--json", "--max-length", "16", long])
        #expect(truncated.status == 0, "\(truncated.standardError)")
        let ids = try JSONValue.parse(truncated.standardOutput)["input_ids"]?.arrayValue?.first?.arrayValue
        #expect(ids?.count == 16)
    }
}
