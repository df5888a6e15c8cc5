import Foundation
import Zstd

/// A golden/seq2seq/heads/ case: its safetensors file (inputs, `expected.*` outputs, metadata).
public func seq2seqHeadCase(_ name: String) throws -> Data {
    try Zstd.decompressFile(at: goldenDirectory.appendingPathComponent("seq2seq/heads/\(name).safetensors.zst"))
}

/// The model of a golden/seq2seq/heads/ case made loadable in `destination`: its head files
/// (`model` metadata, as `materializeGoldenModel` makes them) and the converted model's weights
/// (`base_weights`) under the shard name its index gives them (`base_shard`).
public func materializeSeq2SeqHeadModel(metadata: [String: String]?, into destination: URL) throws {
    guard let model = metadata?["model"], let base = metadata?["base_weights"], let shard = metadata?["base_shard"] else {
        throw MissingGoldenMetadata(description: "a seq2seq head golden needs model, base_weights and base_shard metadata")
    }
    try materializeGoldenModel(goldenDirectory.appendingPathComponent(model), into: destination)
    try FileManager.default.copyItem(at: goldenDirectory.appendingPathComponent(base),
                                     to: destination.appendingPathComponent(shard))
}

public struct MissingGoldenMetadata: Error, CustomStringConvertible {
    public let description: String
}
