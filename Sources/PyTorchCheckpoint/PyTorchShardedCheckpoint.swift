import Foundation
import LSGErrors
import SafeTensors

/// The shards of a sharded `.bin` checkpoint, opened through `pytorch_model.bin.index.json` and
/// cross-checked as for safetensors shards: shard names stay in the directory, every tensor sits
/// in the shard the index names, no tensor is in two shards, every shard tensor is indexed.
public final class PyTorchShardedCheckpoint: @unchecked Sendable {
    public static let indexFileName = "pytorch_model.bin.index.json"

    public let directory: URL
    /// The index has the same shape as a safetensors index (`weight_map`, `metadata`).
    public let index: SafeTensorsIndex
    /// Opened shards in shard-file-name order.
    public let shards: [PyTorchCheckpointFile]
    /// All tensors: shard by shard, each in state-dict order.
    public let tensors: [PyTorchTensor]
    private let shardByTensor: [String: PyTorchCheckpointFile]

    public init(indexURL: URL, limits: PyTorchCheckpointFile.Limits = PyTorchCheckpointFile.Limits()) throws {
        let directory = indexURL.deletingLastPathComponent()
        let index = try SafeTensorsIndex(contentsOf: indexURL)
        let opened = try index.openShards(in: directory, open: { try PyTorchCheckpointFile(contentsOf: $0, limits: limits) },
                                          tensorNames: { $0.tensors.map(\.name) })
        let shards = opened.shards
        self.directory = directory
        self.index = index
        self.shards = shards
        self.tensors = shards.flatMap(\.tensors)
        self.shardByTensor = opened.shardPositionByTensor.mapValues { shards[$0] }
    }

    public var names: [String] { tensors.map(\.name) }

    /// The shard that holds `name`.
    public func file(containing name: String) -> PyTorchCheckpointFile? { shardByTensor[name] }

    public func info(_ name: String) -> PyTorchTensor? { shardByTensor[name]?.info(name) }

    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let shard = shardByTensor[name] else {
            throw LSGError(.missingTensor, file: index.name, "no tensor named '\(name)'")
        }
        return try shard.withBytes(of: name, body)
    }
}
