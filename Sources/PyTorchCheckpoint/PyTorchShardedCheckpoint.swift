import Foundation
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
        let index: SafeTensorsIndex
        do {
            index = try SafeTensorsIndex(contentsOf: indexURL)
        } catch let error as SafeTensorsError {
            throw PyTorchCheckpointError(file: error.file, problem: error.problem)
        }
        let directory = indexURL.deletingLastPathComponent()
        func fail(_ problem: String) -> PyTorchCheckpointError { PyTorchCheckpointError(file: index.name, problem: problem) }

        var shards: [PyTorchCheckpointFile] = []
        var shardByTensor: [String: PyTorchCheckpointFile] = [:]
        var tensors: [PyTorchTensor] = []
        for shardName in index.shardFiles {
            let shard = try PyTorchCheckpointFile(contentsOf: directory.appendingPathComponent(shardName), limits: limits)
            for tensor in shard.tensors {
                if let other = shardByTensor[tensor.name] {
                    throw fail("tensor '\(tensor.name)' is in two shards, \(URL(fileURLWithPath: other.name).lastPathComponent) and \(shardName)")
                }
                guard let named = index.weightMap[tensor.name] else {
                    throw fail("tensor '\(tensor.name)' of shard \(shardName) is not in the weight_map")
                }
                guard named == shardName else {
                    throw fail("tensor '\(tensor.name)' is in shard \(shardName) but the index names \(named)")
                }
                shardByTensor[tensor.name] = shard
                tensors.append(tensor)
            }
            shards.append(shard)
        }
        for (tensor, shardName) in index.weightMap.sorted(by: { $0.key < $1.key }) where shardByTensor[tensor] == nil {
            throw fail("tensor '\(tensor)' is not in shard \(shardName), where the index puts it")
        }
        self.directory = directory
        self.index = index
        self.shards = shards
        self.tensors = tensors
        self.shardByTensor = shardByTensor
    }

    public var names: [String] { tensors.map(\.name) }

    /// The shard that holds `name`.
    public func file(containing name: String) -> PyTorchCheckpointFile? { shardByTensor[name] }

    public func info(_ name: String) -> PyTorchTensor? { shardByTensor[name]?.info(name) }

    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let shard = shardByTensor[name] else {
            throw PyTorchCheckpointError(file: index.name, problem: "no tensor named '\(name)'")
        }
        return try shard.withBytes(of: name, body)
    }
}
