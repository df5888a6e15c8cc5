import Foundation
import LSGErrors

/// A model directory opened for reading: its config, weights and tokenizer files.
public struct ModelDirectory: Sendable {
    public let url: URL
    public let config: ModelConfig
    public let tensors: TensorStore
    public let tokenizer: TokenizerFiles

    /// With `readingTokenizer` false the tokenizer files are left unread (`tokenizer` lists
    /// none): running the encoder or decoder on token ids needs no tokenizer, so a model whose
    /// tokenizer files are absent or unreadable still runs on ids.
    public init(url: URL, readingTokenizer: Bool = true) throws {
        let configURL = url.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw LSGError(.missingFile, file: url.path, "no config.json: not a model directory")
        }
        self.url = url
        config = try ModelConfig.load(from: configURL)
        tensors = try TensorStore(directory: url)
        tokenizer = readingTokenizer ? try TokenizerFiles(directory: url, config: config) : TokenizerFiles(unreadIn: url)
    }

    /// Opens the directory a name resolves to.
    public init(resolved: ResolvedModel, readingTokenizer: Bool = true) throws {
        try self.init(url: resolved.directory, readingTokenizer: readingTokenizer)
    }
}
