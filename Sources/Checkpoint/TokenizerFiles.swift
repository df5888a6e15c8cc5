import Foundation
import JSON
import SafeTensors

/// The tokenizer files of a model directory and the special-token ids they define.
///
/// Ids come from the tokenizer, not from `config.json`: a token's id is looked up in
/// `tokenizer.json` added tokens, `tokenizer_config.json` `added_tokens_decoder`,
/// `added_tokens.json`, then the vocabulary (`tokenizer.json` model vocab, `vocab.json`,
/// `vocab.txt`). Token strings come from `tokenizer_config.json`, then
/// `special_tokens_map.json`, then the defaults of the family's tokenizer class.
public struct TokenizerFiles: Sendable {
    /// Files that belong to the tokenizer, in the order transformers lists them.
    public static let knownFileNames = [
        "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json",
        "sentencepiece.bpe.model", "spiece.model", "vocab.json", "merges.txt", "vocab.txt",
    ]

    public let directory: URL
    /// The tokenizer files present, by name (subset of `knownFileNames`).
    public let fileNames: [String]
    public let bosTokenId: Int?
    public let clsTokenId: Int?
    public let maskTokenId: Int?

    public init(directory: URL, family: ModelFamily?) throws {
        self.directory = directory
        let manager = FileManager.default
        fileNames = Self.knownFileNames.filter {
            manager.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
        let lookup = try TokenLookup(directory: directory, fileNames: fileNames)
        let defaults = Self.defaultTokens(for: family)
        func id(_ role: String) -> Int? {
            guard let token = lookup.declaredToken(role) ?? defaults[role] else { return nil }
            return lookup.id(of: token)
        }
        bosTokenId = id("bos_token")
        clsTokenId = id("cls_token")
        maskTokenId = id("mask_token")
    }

    /// Special tokens of the family's tokenizer class when the files do not name them.
    static func defaultTokens(for family: ModelFamily?) -> [String: String] {
        switch family {
        case .bert?, .distilbert?, .electra?: return ["cls_token": "[CLS]", "mask_token": "[MASK]"]
        case nil: return [:]
        default: return ["bos_token": "<s>", "cls_token": "<s>", "mask_token": "<mask>"]
        }
    }

    /// The id that starts a sequence: the bos token, else the cls token, else `config.bos_token_id`.
    public func sequenceStartId(config: ModelConfig) -> Int? {
        bosTokenId ?? clsTokenId ?? config.bosTokenId
    }

    /// `tokenizer_config.json` with `model_max_length` set (created when absent), as transformers
    /// writes it: indent 2, keys sorted (`added_tokens_decoder` ids numerically, its keys being
    /// integers in Python), non-ASCII kept, trailing newline.
    public func tokenizerConfig(modelMaxLength: Int) throws -> Data {
        var object = JSONObject()
        if let loaded = try loadObject("tokenizer_config.json") { object = loaded }
        object["model_max_length"] = .int(modelMaxLength)
        return Self.transformersJSON(object)
    }

    /// `special_tokens_map.json` as transformers saves it again, or nil when it would be unchanged:
    /// a special token given as a string that `added_tokens_decoder` defines is written as that
    /// added token (`content`, `lstrip`, `normalized`, `rstrip`, `single_word`).
    public func specialTokensMap() throws -> Data? {
        guard var map = try loadObject("special_tokens_map.json"),
              let decoder = try loadObject("tokenizer_config.json")?["added_tokens_decoder"]?.objectValue else { return nil }
        var added: [String: JSONValue] = [:]
        for (_, entry) in decoder {
            guard let content = entry["content"]?.stringValue, var token = entry.objectValue else { continue }
            token["special"] = nil
            added[content] = .object(token)
        }
        // Lists (additional_special_tokens) keep their strings.
        let original = map
        for (key, value) in original {
            if let token = value.stringValue, let expanded = added[token] { map[key] = expanded }
        }
        return map == original ? nil : Self.transformersJSON(map)
    }

    private func loadObject(_ name: String) throws -> JSONObject? {
        guard fileNames.contains(name) else { return nil }
        let url = directory.appendingPathComponent(name)
        let value = try Self.loadJSON(url)
        guard let object = value.objectValue else {
            throw CheckpointError(url.path, "is a JSON \(value.typeName), expected an object")
        }
        return object
    }

    /// `json.dumps(indent=2, sort_keys=True, ensure_ascii=False) + "\n"` of a tokenizer file.
    static func transformersJSON(_ object: JSONObject) -> Data {
        let sorted = JSONValue.object(object).sortedLikePython(integerKeyedObjects: ["added_tokens_decoder"])
        return Data((sorted.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: false) + "\n").utf8)
    }

    /// The bytes of one of the tokenizer files, read whole: a regular file of at most
    /// `SafeTensorsLimits.maxJSONFileBytes` (a FIFO or a device is refused, never waited on).
    public func contents(of name: String) throws -> Data {
        try Self.readFile(directory.appendingPathComponent(name))
    }

    static func readFile(_ url: URL) throws -> Data {
        do {
            return try RegularFile.contents(of: url, maxBytes: SafeTensorsLimits.maxJSONFileBytes)
        } catch {
            throw CheckpointError(error.file, error.problem)
        }
    }

    static func loadJSON(_ url: URL) throws -> JSONValue {
        do {
            return try JSONValue.load(contentsOf: url)
        } catch let error as SafeTensorsError {
            throw CheckpointError(error.file, error.problem)
        }
    }
}

/// Token-string to id lookup over whichever tokenizer files a directory has.
struct TokenLookup {
    private var declared: [String: String] = [:]
    private var addedTokens: [String: Int] = [:]
    private var vocabulary: [String: Int] = [:]

    init(directory: URL, fileNames: [String]) throws {
        func load(_ name: String) throws -> JSONValue? {
            guard fileNames.contains(name) else { return nil }
            return try TokenizerFiles.loadJSON(directory.appendingPathComponent(name))
        }
        // Declared special tokens: tokenizer_config.json wins over special_tokens_map.json.
        for file in ["special_tokens_map.json", "tokenizer_config.json"] {
            guard let object = try load(file)?.objectValue else { continue }
            for role in ["bos_token", "cls_token", "mask_token"] {
                if let token = Self.tokenContent(object[role]) { declared[role] = token }
            }
        }
        // Added tokens, lowest priority first so later sources override.
        if let object = try load("added_tokens.json")?.objectValue {
            for (token, id) in object { if let id = id.intValue { addedTokens[token] = id } }
        }
        if let decoder = try load("tokenizer_config.json")?["added_tokens_decoder"]?.objectValue {
            for (key, entry) in decoder {
                if let id = Int(key), let token = Self.tokenContent(entry) { addedTokens[token] = id }
            }
        }
        let tokenizer = try load("tokenizer.json")
        for entry in tokenizer?["added_tokens"]?.arrayValue ?? [] {
            if let id = entry["id"]?.intValue, let token = entry["content"]?.stringValue { addedTokens[token] = id }
        }
        // Vocabulary: the fast tokenizer's model, else the slow tokenizer's files.
        if let vocab = tokenizer?["model"]?["vocab"] {
            if let object = vocab.objectValue {
                for (token, id) in object { if let id = id.intValue { vocabulary[token] = id } }
            } else if let pieces = vocab.arrayValue {  // Unigram: [[piece, score], ...]
                for (index, piece) in pieces.enumerated() {
                    if let token = piece.arrayValue?.first?.stringValue, vocabulary[token] == nil {
                        vocabulary[token] = index
                    }
                }
            }
        } else if let object = try load("vocab.json")?.objectValue {
            for (token, id) in object { if let id = id.intValue { vocabulary[token] = id } }
        } else if fileNames.contains("vocab.txt") {
            let url = directory.appendingPathComponent("vocab.txt")
            guard let text = String(validating: try TokenizerFiles.readFile(url), as: UTF8.self) else {
                throw CheckpointError(url.path, "is not UTF-8 text")
            }
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let token = String(line.hasSuffix("\r") ? line.dropLast() : line)
                if vocabulary[token] == nil { vocabulary[token] = index }
            }
        }
    }

    func declaredToken(_ role: String) -> String? { declared[role] }

    func id(of token: String) -> Int? { addedTokens[token] ?? vocabulary[token] }

    /// A token given as a string or as a serialized AddedToken (`{"content": ...}`).
    static func tokenContent(_ value: JSONValue?) -> String? {
        value?.stringValue ?? value?["content"]?.stringValue
    }
}
