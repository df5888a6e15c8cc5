import Foundation
import LSGErrors

/// The shards of a sharded checkpoint directory, opened through its index and cross-checked:
/// every tensor sits in the shard the index names, no tensor is in two shards, and every shard
/// tensor is in the index.
public final class ShardedSafeTensors: @unchecked Sendable {
    public let directory: URL
    public let index: SafeTensorsIndex
    /// Opened shards in shard-file-name order.
    public let shards: [SafeTensorsFile]
    /// All tensors: shard by shard, each in data-offset order.
    public let tensors: [TensorInfo]
    private let shardByTensor: [String: SafeTensorsFile]

    public convenience init(directory: URL) throws {
        try self.init(indexURL: directory.appendingPathComponent(SafeTensorsIndex.defaultFileName))
    }

    /// Opens the index at `indexURL` and every shard it names (in the same directory).
    public init(indexURL: URL) throws {
        let index = try SafeTensorsIndex(contentsOf: indexURL)
        let directory = indexURL.deletingLastPathComponent()
        let (shards, positions) = try index.openShards(in: directory, open: SafeTensorsFile.init(contentsOf:), tensorNames: \.names)
        self.directory = directory
        self.index = index
        self.shards = shards
        self.tensors = shards.flatMap(\.tensors)
        self.shardByTensor = positions.mapValues { shards[$0] }
    }

    public var names: [String] { tensors.map(\.name) }

    /// The shard that holds `name`.
    public func file(containing name: String) -> SafeTensorsFile? { shardByTensor[name] }

    public func info(_ name: String) -> TensorInfo? { shardByTensor[name]?.info(name) }

    private func shard(_ name: String) throws -> SafeTensorsFile {
        guard let shard = shardByTensor[name] else {
            throw LSGError(.missingTensor, file: index.name, "no tensor named '\(name)'")
        }
        return shard
    }

    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try shard(name).withBytes(of: name, body)
    }

    public func floats(_ name: String) throws -> [Float] { try shard(name).floats(name) }
    public func int64s(_ name: String) throws -> [Int64] { try shard(name).int64s(name) }
}
