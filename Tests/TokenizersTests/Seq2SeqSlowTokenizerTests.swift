import Foundation
import Testing
import Tokenizers

/// mBART, BARThez and Pegasus tokenizers built from their sentencepiece files alone, as
/// transformers 4.36.2's MBartConverter, BarthezConverter and PegasusConverter build them, then
/// the fast classes' constructors (mBART's language codes and `src_lang`, Pegasus' `offset` and
/// `mask_token_sent`). The expected values are AutoTokenizer's for the same directories, made
/// here from golden/fixtures without tokenizer.json.
struct Seq2SeqSlowTokenizerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("golden/fixtures")

    static let texts = ["le chat dort", "Hello world, <mask> the été!", "  naïve  crème brûlée <s> x</s>"]

    /// A layout: the files copied from a fixture, files written, and AutoTokenizer's results.
    struct Layout: Sendable, CustomTestStringConvertible {
        let name: String
        let fixture: String
        let copied: [String]
        var written: [String: String] = [:]
        let vocabularySize: Int
        let ids: [String: Int]
        let additionalCount: Int
        /// The first two texts' ids, and the first two as a pair.
        let encodings: [[Int]]
        var testDescription: String { name }
    }

    static let mbartIDs = ["bos_token": 0, "eos_token": 2, "unk_token": 3, "sep_token": 2, "pad_token": 1, "cls_token": 0, "mask_token": 176]
    static let mbartEncodings = [
        [33, 102, 9, 38, 47, 9, 2, 154],
        [4, 3, 6, 15, 15, 11, 60, 47, 15, 14, 110, 176, 20, 4, 31, 9, 31, 3, 2, 154],
        [4, 10, 8, 3, 150, 6, 4, 22, 89, 12, 6, 4, 148, 16, 3, 15, 31, 6, 4, 0, 4, 72, 2, 2, 154],
        [33, 102, 9, 38, 47, 9, 4, 3, 6, 15, 15, 11, 60, 47, 15, 14, 110, 176, 20, 4, 31, 9, 31, 3, 2, 154],
    ]
    static let barthezIDs = ["bos_token": 0, "eos_token": 2, "unk_token": 3, "sep_token": 2, "pad_token": 1, "cls_token": 0, "mask_token": 150]
    static let barthezEncodings = [
        [0, 33, 102, 9, 38, 47, 9, 2],
        [0, 4, 3, 6, 15, 15, 11, 60, 47, 15, 14, 110, 150, 20, 4, 31, 9, 31, 3, 2],
        [0, 4, 10, 8, 3, 149, 6, 4, 22, 89, 12, 6, 4, 147, 16, 3, 15, 31, 6, 4, 0, 4, 72, 2, 2],
        [0, 33, 102, 9, 38, 47, 9, 2, 2, 4, 3, 6, 15, 15, 11, 60, 47, 15, 14, 110, 150, 20, 4, 31, 9, 31, 3, 2],
    ]
    static let pegasusIDs = ["eos_token": 1, "unk_token": 105, "pad_token": 0, "mask_token": 3]
    static let pegasusEncodings = [
        [141, 109, 106, 152, 119, 120, 151, 117, 120, 1],
        [106, 105, 109, 121, 121, 134, 126, 157, 121, 115, 241, 106, 105, 124, 119, 108, 142, 105, 110, 106, 105, 120, 105, 1],
        [106, 114, 119, 105, 216, 109, 186, 117, 105, 124, 109, 223, 105, 121, 105, 109, 106, 105, 108, 105, 106, 250, 1, 1],
        [141, 109, 106, 152, 119, 120, 151, 117, 120,
         106, 105, 109, 121, 121, 134, 126, 157, 121, 115, 241, 106, 105, 124, 119, 108, 142, 105, 110, 106, 105, 120, 105, 1],
    ]

    static let layouts: [Layout] = [
        Layout(name: "mbart slow files", fixture: "mbart-tiny",
               copied: ["sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json"],
               vocabularySize: 177, ids: mbartIDs, additionalCount: 25, encodings: mbartEncodings),
        Layout(name: "mbart sentencepiece and config.json", fixture: "mbart-tiny", copied: ["sentencepiece.bpe.model", "config.json"],
               vocabularySize: 177, ids: mbartIDs, additionalCount: 25, encodings: mbartEncodings),
        Layout(name: "barthez slow files", fixture: "barthez-tiny",
               copied: ["sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"],
               vocabularySize: 151, ids: barthezIDs, additionalCount: 0, encodings: barthezEncodings),
        Layout(name: "barthez sentencepiece and tokenizer class", fixture: "barthez-tiny", copied: ["sentencepiece.bpe.model"],
               written: ["tokenizer_config.json": #"{"tokenizer_class": "BarthezTokenizer"}"#],
               vocabularySize: 151, ids: barthezIDs, additionalCount: 0, encodings: barthezEncodings),
        Layout(name: "pegasus slow files", fixture: "pegasus-tiny", copied: ["spiece.model", "tokenizer_config.json", "special_tokens_map.json"],
               vocabularySize: 253, ids: pegasusIDs, additionalCount: 102, encodings: pegasusEncodings),
        Layout(name: "pegasus spiece and config.json", fixture: "pegasus-tiny", copied: ["spiece.model", "config.json"],
               vocabularySize: 253, ids: pegasusIDs, additionalCount: 102, encodings: pegasusEncodings),
        Layout(name: "pegasus offset 10", fixture: "pegasus-tiny", copied: ["spiece.model"],
               written: ["tokenizer_config.json": #"{"tokenizer_class": "PegasusTokenizer", "offset": 10}"#],
               vocabularySize: 160, ids: ["eos_token": 1, "unk_token": 12, "pad_token": 0, "mask_token": 3], additionalCount: 9,
               encodings: [[48, 16, 13, 59, 26, 27, 58, 24, 27, 1]]),
        // Without mask_token_sent the mask is not among the first ids: added past the vocabulary.
        Layout(name: "pegasus without mask_token_sent", fixture: "pegasus-tiny", copied: ["spiece.model"],
               written: ["tokenizer_config.json": #"{"tokenizer_class": "PegasusTokenizer", "mask_token_sent": null}"#],
               vocabularySize: 252, ids: ["eos_token": 1, "unk_token": 103, "pad_token": 0, "mask_token": 251], additionalCount: 101,
               encodings: [[139, 107, 104, 150, 117, 118, 149, 115, 118, 1]]),
    ]

    static func directory(copying files: [String], from fixture: String, writing written: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seq2seq-slow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in files {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture).appendingPathComponent(name),
                                             to: directory.appendingPathComponent(name))
        }
        for (name, text) in written { try Data(text.utf8).write(to: directory.appendingPathComponent(name)) }
        return directory
    }

    @Test(arguments: layouts)
    func slowFilesGiveTheReferenceTokenizer(_ layout: Layout) throws {
        let directory = try Self.directory(copying: layout.copied, from: layout.fixture, writing: layout.written)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizer = try Tokenizer(directory: directory)
        #expect(tokenizer.vocabularySize == layout.vocabularySize)
        let ids = SpecialTokenRole.allCases.reduce(into: [String: Int]()) { $0[$1.key] = tokenizer.specialTokens.id($1) }
        #expect(ids == layout.ids)
        #expect(tokenizer.specialTokens.additional.count == layout.additionalCount)
        for (text, expected) in zip(Self.texts, layout.encodings.prefix(3)) {
            #expect(try tokenizer.encode(text).ids == expected, "\(text)")
        }
        if layout.encodings.count > 3 {
            #expect(try tokenizer.encode(Self.texts[0], pair: Self.texts[1]).ids == layout.encodings[3])
        }
    }

    /// MBartTokenizerFast's `src_lang` sets the language code that ends every encoding (ro_RO is 170).
    @Test func mbartSourceLanguageSetsThePostProcessor() throws {
        let directory = try Self.directory(
            copying: ["sentencepiece.bpe.model", "config.json"], from: "mbart-tiny",
            writing: ["tokenizer_config.json": #"{"tokenizer_class": "MBartTokenizer", "src_lang": "ro_RO"}"#])
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenizer = try Tokenizer(directory: directory)
        let encoding = try tokenizer.encode(Self.texts[0])
        #expect(encoding.ids == [33, 102, 9, 38, 47, 9, 2, 170])
        #expect(encoding.tokens.suffix(2) == ["</s>", "ro_RO"])
        #expect(try tokenizer.encode(Self.texts[0], pair: Self.texts[1]).ids.suffix(2) == [2, 170])
    }
}
