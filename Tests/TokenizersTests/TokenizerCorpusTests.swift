import Foundation
import JSON
import Testing
import Tokenizers
import Zstd

/// Every encoding and decoding transformers 4.36.2's fast tokenizers produced on the tokenizer
/// corpus (golden/tokenizers/corpus/cases.json.zst, written by golden/tools/tokenizer_corpus.py):
/// ids, tokens, offsets, attention mask, type ids, special-tokens mask and both decodings must
/// be equal, for the fixtures (with and without tokenizer.json), all-MiniLM-L6-v2 and the
/// trained tokenizers.
struct TokenizerCorpusTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("golden")

    static let document: JSONValue = {
        let url = golden.appendingPathComponent("tokenizers/corpus/cases.json.zst")
        guard let data = try? Zstd.decompressFile(at: url), let value = try? JSONValue.parse(data) else { return .null }
        return value
    }()

    static var records: [JSONValue] { document["tokenizers"]?.arrayValue ?? [] }
    static var names: [String] { records.compactMap { $0["name"]?.stringValue } }

    @Test func theCorpusCoversEveryModelKind() {
        #expect(Self.records.count >= 20)
        #expect(Set(Self.records.compactMap { $0["tokenizer_class"]?.stringValue }).count == 6)
    }

    /// The model directory a record describes, laid out in a scratch directory.
    static func directory(for record: JSONValue) throws -> URL {
        let name = try #require(record["name"]?.stringValue)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-corpus-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let fixture = record["fixture"]?.stringValue {
            let left = Set(record["without"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let source = golden.appendingPathComponent(fixture)
            for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where !left.contains(file) && file != "model.safetensors" {
                try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: directory.appendingPathComponent(file))
            }
        }
        for (file, path) in record["files"]?.objectValue ?? JSONObject() {
            let data = try Zstd.decompressFile(at: golden.appendingPathComponent(try #require(path.stringValue)))
            try data.write(to: directory.appendingPathComponent(file))
        }
        return directory
    }

    @Test(arguments: names)
    func encodingsMatchTransformers(_ name: String) throws {
        let record = try #require(Self.records.first { $0["name"]?.stringValue == name })
        let directory = try Self.directory(for: record)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizer = try Tokenizer(directory: directory)
        #expect(tokenizer.vocabularySize == record["length"]?.intValue)
        if let length = record["model_max_length"]?.intValue { #expect(tokenizer.modelMaxLength == length) }

        var compared = 0
        var mismatches: [String] = []
        func compare(_ ours: Encoding, _ expected: JSONValue, _ label: String) {
            compared += 1
            let offsets = expected["offset_mapping"]?.arrayValue?.map { pair -> Range<Int> in
                let bounds = pair.arrayValue?.compactMap(\.intValue) ?? [0, 0]
                return bounds[0]..<bounds[1]
            }
            let fields: [(String, Bool)] = [
                ("input_ids", ours.ids == ints(expected["input_ids"])), ("tokens", ours.tokens == strings(expected["tokens"])),
                ("attention_mask", ours.attentionMask == ints(expected["attention_mask"])),
                ("token_type_ids", ours.typeIDs == ints(expected["token_type_ids"])),
                ("special_tokens_mask", ours.specialTokensMask == ints(expected["special_tokens_mask"])), ("offsets", ours.offsets == offsets),
            ]
            for (field, equal) in fields where !equal {
                mismatches.append("\(label): \(field) differs; ours \(describe(ours, field)), expected \(expected[field == "offsets" ? "offset_mapping" : field]?.compactString().prefix(300) ?? "")")
            }
        }
        for (index, single) in (record["singles"]?.arrayValue ?? []).enumerated() {
            let text = try #require(single["text"]?.stringValue)
            let encoding = try tokenizer.encode(text)
            compare(encoding, single, "single \(index) \(text.prefix(40).debugDescription)")
            let decoded = tokenizer.decode(encoding.ids)
            if decoded != single["decoded"]?.stringValue { mismatches.append("single \(index): decode \(decoded.prefix(120).debugDescription) != \(single["decoded"]?.stringValue?.prefix(120).debugDescription ?? "")") }
            let skipping = tokenizer.decode(encoding.ids, skipSpecialTokens: true)
            if skipping != single["decoded_skipping_special"]?.stringValue {
                mismatches.append("single \(index): decode skipping special \(skipping.prefix(120).debugDescription) != \(single["decoded_skipping_special"]?.stringValue?.prefix(120).debugDescription ?? "")")
            }
        }
        for (index, single) in (record["without_special_tokens"]?.arrayValue ?? []).enumerated() {
            compare(try tokenizer.encode(try #require(single["text"]?.stringValue), addSpecialTokens: false), single, "without special tokens \(index)")
        }
        for (index, batch) in (record["batches"]?.arrayValue ?? []).enumerated() {
            let texts = strings(batch["texts"])
            let pairs = batch["pairs"].map(strings)
            let options = try Self.options(try #require(batch["options"]))
            let encodings = try tokenizer.encode(batch: texts, pairs: pairs, options: options)
            for (row, expected) in (batch["encodings"]?.arrayValue ?? []).enumerated() {
                compare(encodings[row], expected, "batch \(index) \(batch["options"]!.compactString()) row \(row)")
            }
        }
        #expect(compared >= 100)
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) of \(compared) encodings differ:\n\(mismatches.prefix(12).joined(separator: "\n"))")
    }

    static func options(_ value: JSONValue) throws -> TokenizeOptions {
        var options = TokenizeOptions()
        options.maxLength = value["max_length"]?.intValue
        options.truncation = value["truncation"]?.boolValue ?? false
        switch value["padding"]?.stringValue {
        case "longest"?: options.padding = .longest
        case "max_length"?: options.padding = .maxLength
        default: options.padding = .none
        }
        options.padToMultipleOf = value["pad_to_multiple_of"]?.intValue
        return options
    }
}

private func ints(_ value: JSONValue?) -> [Int] { value?.arrayValue?.compactMap(\.intValue) ?? [] }
private func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }

private func describe(_ encoding: Encoding, _ field: String) -> String {
    let text: String
    switch field {
    case "input_ids": text = "\(encoding.ids)"
    case "tokens": text = "\(encoding.tokens)"
    case "attention_mask": text = "\(encoding.attentionMask)"
    case "token_type_ids": text = "\(encoding.typeIDs)"
    case "special_tokens_mask": text = "\(encoding.specialTokensMask)"
    default: text = "\(encoding.offsets.map { [$0.lowerBound, $0.upperBound] })"
    }
    return String(text.prefix(300))
}

/// Cases the random differential check (scripts/tokenizer-differential) found, with what
/// transformers 4.36.2 gave.
@Suite struct TokenizerDifferentialFindings {
    /// Metaspace's `prepend_scheme: "first"` prepends to the first piece that still has text after
    /// normalization: spaces before an added token, stripped to nothing, do not count.
    @Test(arguments: [
        ("\u{3000} <s>  «g", ["<s>", "<s>", "▁", "«", "g", "</s>"]),
        ("\u{2009} <mask>(x", ["<s>", "<mask>", "▁", "(", "x", "</s>"]),
        ("a<mask>(x", ["<s>", "▁", "a", "<mask>", "(", "x", "</s>"]),
    ])
    func metaspaceFirstSkipsEmptiedPieces(_ text: String, _ expected: [String]) throws {
        let record = try #require(TokenizerCorpusTests.records.first { $0["name"]?.stringValue == "bpe-byte-fallback" })
        let tokenizer = try Tokenizer(directory: try TokenizerCorpusTests.directory(for: record))
        #expect(try tokenizer.encode(text).tokens == expected)
    }
}

/// ALBERT's tokenizer built from `spiece.model` alone (transformers' AlbertConverter), against
/// the ids and tokens transformers 4.36.2 gave for golden/fixtures/albert-tiny without its
/// tokenizer.json (recorded with `AutoTokenizer.from_pretrained`; scripts/tokenizer-differential
/// compared 3,000 random texts more, all identical).
@Suite struct AlbertSlowTokenizerTests {
    @Test(arguments: [
        ("Le chat dort.", [2, 40, 8, 5, 51, 18, 19, 50, 16, 19, 6, 3]),
        ("``Quoted'' Crème BRÛLÉE", [2, 5, 1, 26, 33, 19, 8, 14, 1, 85, 80, 23, 8, 122, 26, 20, 8, 8, 3]),
        ("x², 1,234, 12,", [2, 5, 147, 1, 138, 5, 1, 138, 1, 138, 5, 1, 138, 3]),
        ("naïve  café\u{00A0}\u{FB01}n", [2, 5, 13, 18, 90, 126, 76, 8, 48, 10, 3]),
        ("", [2, 3]),
    ])
    func idsMatchTransformers(_ text: String, _ expected: [Int]) throws {
        let fixture = TokenizerCorpusTests.golden.appendingPathComponent("fixtures/albert-tiny")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("albert-slow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in try FileManager.default.contentsOfDirectory(atPath: fixture.path)
        where file != "tokenizer.json" && file != "model.safetensors" {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        #expect(try Tokenizer(directory: directory).encode(text).ids == expected)
    }
}
