import FileIO
import Foundation
import JSON
import LSGErrors
import SafeTensors
import Tokenizers

/// The tokenizer files of a model directory and the special-token ids they define, exactly as
/// transformers' `AutoTokenizer` (the fast tokenizer, which the reference asks) reports them
/// (`Tokenizers.SpecialTokens`): ids come from the tokenizer, not from `config.json`.
public struct TokenizerFiles: Sendable {
    /// Files that belong to the tokenizer, in the order transformers lists them.
    public static let knownFileNames = TokenizerDirectory.knownFileNames

    public let directory: URL
    /// The tokenizer files present, by name (subset of `knownFileNames`).
    public let fileNames: [String]
    /// The special tokens; nil when the directory has no tokenizer files.
    public let specialTokens: SpecialTokens?

    public var bosTokenId: Int? { specialTokens?.id(.bos) }
    public var clsTokenId: Int? { specialTokens?.id(.cls) }
    public var maskTokenId: Int? { specialTokens?.id(.mask) }

    /// `config` is the model's `config.json` (its model type and `tokenizer_class` choose the
    /// tokenizer class when tokenizer_config.json does not).
    public init(directory: URL, config: ModelConfig) throws {
        self.directory = directory
        fileNames = TokenizerDirectory(url: directory).fileNames
        specialTokens = fileNames.isEmpty ? nil : try SpecialTokens.load(directory: directory, modelConfig: config.json)
    }

    /// No tokenizer files read from `directory`.
    init(unreadIn directory: URL) {
        self.directory = directory
        fileNames = []
        specialTokens = nil
    }

    /// The id that starts a sequence: the bos token, else the cls token, else `config.bos_token_id`.
    public func sequenceStartId(config: ModelConfig) -> Int? {
        bosTokenId ?? clsTokenId ?? config.bosTokenId
    }

    /// One line per id the conversion uses: the token, its id and where each came from.
    public func idSummary(config: ModelConfig) -> String {
        func describe(_ role: SpecialTokenRole) -> String? {
            guard let token = specialTokens?.tokens[role], let id = token.id else { return nil }
            return "\(role.key.dropLast("_token".count)) \(JSONValue.string(token.content).compactString()) = \(id) (\(token.idOrigin); named by \(token.declaredBy))"
        }
        let start = describe(.bos) ?? describe(.cls) ?? config.bosTokenId.map { "bos = \($0) (config.json bos_token_id: the tokenizer names none)" }
        let parts = [start, describe(.mask)].compactMap { $0 }
        guard let tokenizerClass = specialTokens?.tokenizerClass else { return parts.joined(separator: ", ") }
        return "\(tokenizerClass.rawValue): " + parts.joined(separator: ", ")
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
            throw LSGError(.malformed, file: url.path, "is a JSON \(value.typeName), expected an object")
        }
        return object
    }

    /// `json.dumps(indent=2, sort_keys=True, ensure_ascii=False) + "\n"` of a tokenizer file.
    static func transformersJSON(_ object: JSONObject) -> Data {
        let sorted = JSONValue.object(object).sortedLikePython(integerKeyedObjects: ["added_tokens_decoder"])
        return Data((sorted.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: false) + "\n").utf8)
    }

    /// The bytes of one of the tokenizer files, read whole: a regular file of at most
    /// `FileLimits.maxJSONFileBytes` (a FIFO or a device is refused, never waited on).
    public func contents(of name: String) throws -> Data {
        try Self.readFile(directory.appendingPathComponent(name))
    }

    static func readFile(_ url: URL) throws -> Data {
        try RegularFile.contents(of: url, maxBytes: FileLimits.maxJSONFileBytes)
    }

    static func loadJSON(_ url: URL) throws -> JSONValue {
        try JSONValue.load(contentsOf: url)
    }
}
