import Foundation
import LSGErrors

extension SafeTensorsIndex {
    /// The shards this index names, opened from `directory` with `open` in shard-file-name order
    /// and cross-checked: no tensor is in two shards, every shard tensor is in the `weight_map`
    /// under that shard, and every tensor of the `weight_map` is in its shard. Serves safetensors
    /// and PyTorch `.bin` shards alike; errors name the index file.
    public func openShards<Shard>(in directory: URL, open: (URL) throws -> Shard, tensorNames: (Shard) -> [String])
        throws -> (shards: [Shard], shardPositionByTensor: [String: Int])
    {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: name, problem) }
        let shardNames = shardFiles
        var shards: [Shard] = []
        var positionByTensor: [String: Int] = [:]
        for (position, shardName) in shardNames.enumerated() {
            let shard = try open(directory.appendingPathComponent(shardName))
            for tensor in tensorNames(shard) {
                if let other = positionByTensor[tensor] {
                    throw fail(.malformed, "tensor '\(tensor)' is in two shards, \(shardNames[other]) and \(shardName)")
                }
                guard let named = weightMap[tensor] else {
                    throw fail(.malformed, "tensor '\(tensor)' of shard \(shardName) is not in the weight_map")
                }
                guard named == shardName else {
                    throw fail(.malformed, "tensor '\(tensor)' is in shard \(shardName) but the index names \(named)")
                }
                positionByTensor[tensor] = position
            }
            shards.append(shard)
        }
        for (tensor, shardName) in weightMap.sorted(by: { $0.key < $1.key }) where positionByTensor[tensor] == nil {
            throw fail(.malformed, "tensor '\(tensor)' is not in shard \(shardName), where the index puts it")
        }
        return (shards, positionByTensor)
    }
}
