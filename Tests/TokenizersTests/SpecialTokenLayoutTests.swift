import Foundation
import JSON
import LSGErrors
import Testing
import Tokenizers

/// Special-token ids against what transformers 4.36.2's AutoTokenizer reported for 56 tokenizer
/// layouts (golden/tokenizers/special-ids.json, written by golden/tools/tokenizer_layouts.py):
/// each layout is assembled from the files it names, read with `SpecialTokens.load`, and every
/// special token's content and id must equal the reference's; where transformers raised, we must
/// refuse too, with one line naming a file.
struct SpecialTokenLayoutTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("golden")

    static let layouts: [JSONValue] = {
        let url = golden.appendingPathComponent("tokenizers/special-ids.json")
        guard let data = try? Data(contentsOf: url), let value = try? JSONValue.parse(data) else { return [] }
        return value["layouts"]?.arrayValue ?? []
    }()

    static var names: [String] { layouts.compactMap { $0["name"]?.stringValue } }

    @Test func theGoldenCoversEveryLayoutKind() {
        #expect(Self.layouts.count >= 15)
        let files = Set(Self.layouts.flatMap { $0["files"]?.objectValue?.keys ?? [] })
        for name in ["tokenizer.json", "sentencepiece.bpe.model", "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json",
                     "tokenizer_config.json", "special_tokens_map.json"] {
            #expect(files.contains(name), "no layout has \(name)")
        }
    }

    @Test(arguments: names)
    func idsMatchAutoTokenizer(_ name: String) throws {
        let layout = try #require(Self.layouts.first { $0["name"]?.stringValue == name })
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-layout-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (file, entry) in try #require(layout["files"]?.objectValue) {
            let source = Self.golden.appendingPathComponent(try #require(entry["path"]?.stringValue))
            try FileManager.default.copyItem(at: source, to: directory.appendingPathComponent(file))
        }
        let modelConfig = try #require(try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("config.json"))).objectValue)
        let expected = try #require(layout["expected"])
        if let error = expected["error"]?.stringValue {
            let refusal = #expect(throws: LSGError.self, "transformers raised \(error)") {
                _ = try SpecialTokens.load(directory: directory, modelConfig: modelConfig)
            }
            #expect(refusal.map { !$0.description.contains("\n") && ($0.subject ?? "").hasPrefix("/") } ?? true)
            return
        }
        let tokens = try #require(try SpecialTokens.load(directory: directory, modelConfig: modelConfig))
        #expect(tokens.tokenizerClass.rawValue == expected["tokenizer_class"]?.stringValue)
        for role in SpecialTokenRole.allCases {
            let reference = expected["special_tokens"]?[role.key]
            let ours = tokens.tokens[role]
            switch reference {
            case nil, .null?:
                #expect(ours == nil, "\(role.key): ours \(String(describing: ours)), the reference has none")
            case let token?:
                #expect(ours?.content == token["content"]?.stringValue, "\(role.key) content")
                #expect(ours?.id == token["id"]?.intValue, "\(role.key) \(ours?.content ?? "-"): ours \(ours?.id.map(String.init) ?? "none"), reference \(token["id"]?.intValue.map(String.init) ?? "none")")
            }
        }
        // transformers lists a token twice when its two declarations (tokenizer_config.json and
        // special_tokens_map.json) differ in AddedToken flags; we keep contents once, in order.
        var additional: [String] = []
        for token in expected["additional_special_tokens"]?.arrayValue?.compactMap({ $0["content"]?.stringValue }) ?? []
        where !additional.contains(token) { additional.append(token) }
        #expect(tokens.additional == additional, "additional special tokens")
    }
}
