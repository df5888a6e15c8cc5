import Foundation
import JSON
import Testing
import Tokenizers

/// ALBERT's slow tokenizer file is `spiece.model`, converted by transformers' AlbertConverter with
/// its pieces as they are (no fairseq tokens, no `<mask>` appended); ids as AutoTokenizer
/// reported them for the albert-tiny fixture with only `spiece.model` and `config.json`.
struct AlbertTokenizerTests {
    @Test func spieceModelAloneGivesTheReferenceIds() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("golden/fixtures/albert-tiny")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("albert-spiece-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["spiece.model", "config.json"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let modelConfig = try #require(try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("config.json"))).objectValue)
        let tokens = try #require(try SpecialTokens.load(directory: directory, modelConfig: modelConfig))
        #expect(tokens.tokenizerClass == .albert)
        let ids = SpecialTokenRole.allCases.reduce(into: [String: Int]()) { $0[$1.key] = tokens.id($1) }
        #expect(ids == ["bos_token": 2, "cls_token": 2, "sep_token": 3, "eos_token": 3, "pad_token": 0, "unk_token": 1,
                        "mask_token": 4])
    }
}
