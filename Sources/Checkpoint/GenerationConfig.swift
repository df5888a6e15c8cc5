import FileIO
import Foundation
import JSON
import LSGErrors

/// What greedy generation reads from a model's `generation_config.json` (or, without one,
/// `config.json`, from which transformers derives it), resolved as transformers 4.36.2 resolves it.
public struct GenerationConfig: Sendable, Hashable {
    /// The first decoder token: `decoder_start_token_id`, else `bos_token_id` (mBART has no start id).
    public let decoderStartTokenId: Int
    public let eosTokenId: Int
    /// Appended to a row after its eos token while other rows are still generating.
    public let padTokenId: Int
    /// The token forced as the last one when generation reaches its maximum length.
    public let forcedEOSTokenId: Int?

    public init(decoderStartTokenId: Int, eosTokenId: Int, padTokenId: Int, forcedEOSTokenId: Int?) {
        self.decoderStartTokenId = decoderStartTokenId
        self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
        self.forcedEOSTokenId = forcedEOSTokenId
    }

    public static let fileName = "generation_config.json"

    /// The settings of `model`. Settings greedy search would apply but this port does not
    /// (a minimum length, n-gram blocking, a forced first token, several eos ids) are refused.
    public init(model: ModelDirectory) throws {
        let url = model.url.appendingPathComponent(Self.fileName)
        let path = FileManager.default.fileExists(atPath: url.path) ? url.path : model.url.appendingPathComponent("config.json").path
        let object = FileManager.default.fileExists(atPath: url.path) ? try JSONValue.load(contentsOf: url) : .object(model.config.json)
        func id(_ key: String) throws -> Int? {
            guard let value = object[key], value != .null else { return nil }
            guard let id = value.intValue else { throw LSGError(.malformed, file: path, "\(key) is \(value.compactString()), expected one token id") }
            return id
        }
        for key in ["min_length", "no_repeat_ngram_size", "forced_bos_token_id", "encoder_no_repeat_ngram_size"] {
            if let value = object[key], value != .null, value != .int(0) {
                throw LSGError(.unsupported, file: path, "\(key) is \(value.compactString()); greedy generation here supports none")
            }
        }
        guard let start = try id("decoder_start_token_id") ?? id("bos_token_id") else {
            throw LSGError(.malformed, file: path, "neither decoder_start_token_id nor bos_token_id: the decoder has no first token")
        }
        guard let eos = try id("eos_token_id") else { throw LSGError(.malformed, file: path, "no eos_token_id") }
        self.init(decoderStartTokenId: start, eosTokenId: eos, padTokenId: try id("pad_token_id") ?? eos,
                  forcedEOSTokenId: try id("forced_eos_token_id"))
    }
}
