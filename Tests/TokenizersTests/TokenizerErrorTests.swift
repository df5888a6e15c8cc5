import Foundation
import JSON
import LSGErrors
import Testing
@testable import Tokenizers

/// A tokenizer.json transformers could not load, or one with a component this port does not
/// know, is refused with one line naming the file and what is wrong.
struct TokenizerErrorTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("golden/fixtures/bert-tiny")

    /// The bert-tiny tokenizer with its tokenizer.json edited by `edit`; the error of loading it.
    static func error(editing edit: (inout JSONObject) -> Void) throws -> LSGError? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-error-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "config.json"] {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        var json = try #require(try JSONValue.parse(Data(contentsOf: fixture.appendingPathComponent("tokenizer.json"))).objectValue)
        edit(&json)
        try Data(JSONValue.object(json).compactString().utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        do {
            _ = try Tokenizer(directory: directory)
            return nil
        } catch {
            return error
        }
    }

    static func component(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }

    @Test func theUneditedFixtureLoads() throws {
        #expect(try Self.error { _ in } == nil)
    }

    @Test(arguments: ["normalizer", "pre_tokenizer", "post_processor", "decoder", "model"])
    func anUnknownComponentTypeIsNamed(_ key: String) throws {
        // A model keeps a vocabulary: SpecialTokens reads it before the pipeline is built.
        let fields: [(String, JSONValue)] = [("type", "Foo")] + (key == "model" ? [("vocab", Self.component([("[UNK]", .int(0))]))] : [])
        let error = try #require(try Self.error { $0 = $0.setting(key, Self.component(fields)) })
        #expect(error.problem == "unknown \(key) type 'Foo'")
        #expect((error.subject ?? "").hasSuffix("tokenizer.json"))
        #expect(error.description.hasSuffix("tokenizer.json: unknown \(key) type 'Foo'"))
    }

    @Test func malformedFieldsAreNamed() throws {
        let cases: [(String, (inout JSONObject) -> Void)] = [
            ("normalizer Replace \"content\" is a JSON integer, expected a string", {
                $0 = $0.setting("normalizer", Self.component([("type", "Replace"), ("pattern", Self.component([("String", "a")])), ("content", .int(3))]))
            }),
            ("normalizer Lowercase", { $0 = $0.setting("normalizer", .array([])) }),
            ("pre_tokenizer Split behavior", {
                $0 = $0.setting("pre_tokenizer", Self.component([("type", "Split"), ("pattern", Self.component([("String", " ")])), ("behavior", "Sideways")]))
            }),
            ("pre_tokenizer Metaspace \"replacement\" must be one character", {
                $0 = $0.setting("pre_tokenizer", Self.component([("type", "Metaspace"), ("replacement", "ab")]))
            }),
            ("post_processor TemplateProcessing uses special token [X]", {
                $0 = $0.setting("post_processor", Self.component([("type", "TemplateProcessing"),
                    ("single", .array([Self.component([("SpecialToken", Self.component([("id", "[X]"), ("type_id", .int(0))]))])])),
                    ("pair", .array([])), ("special_tokens", .object(JSONObject()))]))
            }),
            ("model.vocab \"[PAD]\" has a JSON string id", {
                guard case .object(let model)? = $0["model"], case .object(let vocab)? = model["vocab"] else { return }
                $0 = $0.setting("model", .object(model.setting("vocab", .object(vocab.setting("[PAD]", "zero")))))
            }),
            ("normalizer Precompiled \"precompiled_charsmap\" is a JSON string, expected base64 text or a list of bytes", {
                $0 = $0.setting("normalizer", Self.component([("type", "Precompiled"), ("precompiled_charsmap", "not base64!")]))
            }),
            ("precompiled_charsmap declares a trie of", {
                $0 = $0.setting("normalizer", Self.component([("type", "Precompiled"), ("precompiled_charsmap", "/////w==")]))
            }),
            ("added_tokens[0] has no \"content\" string", {
                $0 = $0.setting("added_tokens", .array([Self.component([("id", .int(0))])]))
            }),
        ]
        for (expected, edit) in cases {
            let error = try #require(try Self.error(editing: edit), "\(expected): loaded")
            let problem = expected == "normalizer Lowercase" ? "normalizer is a JSON array, expected an object" : expected
            #expect(error.problem.contains(problem), "\(error.problem)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func bpeMergesMustNameVocabularyTokens() throws {
        let error = try #require(try Self.error {
            $0 = $0.setting("model", Self.component([("type", "BPE"), ("vocab", Self.component([("a", .int(0)), ("b", .int(1))])),
                                                     ("merges", .array(["a b"]))]))
        })
        #expect(error.problem == "BPE merge 0 (a b) names a token that is not in the vocabulary")
    }

    @Test func wordPieceNeedsItsUnkToken() throws {
        let error = try #require(try Self.error {
            guard case .object(let model)? = $0["model"] else { return }
            $0 = $0.setting("model", .object(model.setting("unk_token", "<nope>")))
        })
        #expect(error.problem == "WordPiece unk_token <nope> is not in the vocabulary")
    }

    @Test func batchOptionsTheTokenizerCannotHonourAreRefused() throws {
        let tokenizer = try Tokenizer(directory: Self.fixture)
        let mismatch = #expect(throws: LSGError.self) {
            _ = try tokenizer.encode(batch: ["a", "b"], pairs: ["c"], options: TokenizeOptions())
        }
        #expect(mismatch?.problem == "1 second texts given for 2 texts")
        #expect(mismatch?.subject == Self.fixture.path)
    }

    @Test func idsAndTokensAreInverse() throws {
        let tokenizer = try Tokenizer(directory: Self.fixture)
        #expect(tokenizer.id(forToken: "[CLS]") == tokenizer.specialTokens.id(.cls))
        for id in 0..<tokenizer.vocabularySize {
            let token = try #require(tokenizer.token(forID: id), "id \(id)")
            #expect(tokenizer.id(forToken: token) == id)
        }
        #expect(tokenizer.token(forID: tokenizer.vocabularySize) == nil)
    }
}
