import Foundation
import LSGErrors

/// A model directory opened for reading: its config, weights and tokenizer files.
public struct ModelDirectory: Sendable {
    public let url: URL
    public let config: ModelConfig
    public let tensors: TensorStore
    public let tokenizer: TokenizerFiles

    public init(url: URL) throws {
        let configURL = url.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw LSGError(.missingFile, file: url.path, "no config.json: not a model directory")
        }
        self.url = url
        config = try ModelConfig.load(from: configURL)
        tensors = try TensorStore(directory: url)
        tokenizer = try TokenizerFiles(directory: url, config: config)
    }

    /// Opens the directory a name resolves to.
    public init(resolved: ResolvedModel) throws {
        try self.init(url: resolved.directory)
    }
}
