import Foundation
import JSON
import TestSupport
import Testing

@testable import SafeTensors

@Suite struct ShardTests {
    static let referenceOrder: [(String, DType, [Int])] = [
        ("embeddings.weight", .f32, [4, 3]), ("layer.0.weight", .f32, [2, 2]), ("layer.0.bias", .f16, [2]),
        ("layer.1.weight", .f32, [3, 3]), ("position_ids", .i64, [1, 5]),
    ]

    @Test func readsAReferenceShardedCheckpoint() throws {
        let directory = try Resources.url("sharded")
        let sharded = try ShardedSafeTensors(directory: directory)
        #expect(sharded.index.totalSize == 144)
        #expect(sharded.index.shardFiles == ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"])
        #expect(sharded.shards.count == 3)
        #expect(Set(sharded.names) == Set(Self.referenceOrder.map(\.0)))
        #expect(try sharded.floats("embeddings.weight") == (0..<12).map(Float.init))
        #expect(try sharded.floats("layer.0.bias") == [1, 2])
        #expect(try sharded.int64s("position_ids") == [0, 1, 2, 3, 4])
        #expect(sharded.info("layer.1.weight")?.shape == [3, 3])
        #expect(sharded.file(containing: "position_ids")?.name.hasSuffix("model-00003-of-00003.safetensors") == true)
        #expect(try sharded.withBytes(of: "layer.0.weight") { $0.count } == 16)
        expectFileError(naming: directory.appendingPathComponent("model.safetensors.index.json").path, containing: "no tensor named 'nope'") {
            _ = try sharded.floats("nope")
        }
    }

    @Test func writesShardsByteIdenticalToTransformers() throws {
        let reference = try ShardedSafeTensors(directory: try Resources.url("sharded"))
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (name, dtype, shape) in Self.referenceOrder {
            try writer.add(name, dtype: dtype, shape: shape) { sink in try reference.withBytes(of: name) { try sink($0) } }
        }
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let written = try writer.writeSharded(to: output.url, maxShardBytes: 64)
        #expect(written.map(\.lastPathComponent) == ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"])
        let referenceDirectory = try Resources.url("sharded")
        #expect(try output.contents() == (try FileManager.default.contentsOfDirectory(atPath: referenceDirectory.path).sorted()))
        for url in written {
            #expect(try Data(contentsOf: url) == Data(contentsOf: referenceDirectory.appendingPathComponent(url.lastPathComponent)), "\(url.lastPathComponent)")
        }
    }

    @Test func oneShardIsAPlainModelFile() throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("a", floats: [1, 2], shape: [2])
        try writer.add("b", floats: [3], shape: [1])
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let written = try writer.writeSharded(to: output.url, maxShardBytes: 1 << 30)
        #expect(written.map(\.lastPathComponent) == ["model.safetensors"])
        #expect(try output.contents() == ["model.safetensors"])
        #expect(try SafeTensorsFile(contentsOf: written[0]).tensors.count == 2)
    }

    @Test func aTensorLargerThanTheLimitGetsItsOwnShard() throws {
        var writer = SafeTensorsWriter()
        try writer.add("small", floats: [1], shape: [1])
        try writer.add("huge", floats: [Float](repeating: 0, count: 100), shape: [100])
        try writer.add("tail", floats: [2], shape: [1])
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let written = try writer.writeSharded(to: output.url, maxShardBytes: 16)
        #expect(written.count == 4)
        let sharded = try ShardedSafeTensors(directory: output.url)
        #expect(sharded.index.weightMap == ["small": "model-00001-of-00003.safetensors", "huge": "model-00002-of-00003.safetensors", "tail": "model-00003-of-00003.safetensors"])
        #expect(sharded.index.totalSize == 408)
        expectFileError(naming: "safetensors writer", containing: "maximum shard size 0 is not positive") {
            try writer.writeSharded(to: output.url, maxShardBytes: 0)
        }
    }

    @Test func aFailingShardLeavesNoFiles() throws {
        struct Boom: Error {}
        var writer = SafeTensorsWriter()
        try writer.add("a", floats: [1, 2, 3, 4], shape: [4])
        try writer.add("b", dtype: .f32, shape: [4]) { _ in throw Boom() }
        let output = try TemporaryDirectory()
        defer { output.remove() }
        #expect(throws: Boom.self) { try writer.writeSharded(to: output.url, maxShardBytes: 16) }
        #expect(try output.contents().isEmpty)
    }

    // MARK: Hostile or inconsistent indexes

    /// Writes shard files (name -> tensors) and an index into a fresh directory.
    func checkpoint(shards: [String: [String]], weightMap: [String: String]) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        for (file, tensors) in shards {
            var writer = SafeTensorsWriter()
            for tensor in tensors { try writer.add(tensor, floats: [1], shape: [1]) }
            try writer.write(to: directory.file(file))
        }
        let index: JSONValue = ["metadata": ["total_size": 4], "weight_map": .object(JSONObject(weightMap.map { ($0.key, JSONValue.string($0.value)) }))]
        try Data(index.pythonJSONString().utf8).write(to: directory.file("model.safetensors.index.json"))
        return directory
    }

    @Test(arguments: ["../x.safetensors", "/etc/x.safetensors", "sub/x.safetensors", "..", ".", "", "a\\b.safetensors"])
    func refusesShardNamesThatLeaveTheDirectory(shard: String) throws {
        let directory = try checkpoint(shards: ["s1.safetensors": ["a"]], weightMap: ["a": "s1.safetensors", "b": shard])
        defer { directory.remove() }
        expectFileError(naming: directory.file("model.safetensors.index.json").path, containing: "shard name '\(shard)' for tensor 'b' leaves the model directory") {
            _ = try ShardedSafeTensors(directory: directory.url)
        }
    }

    @Test func refusesATensorInTwoShards() throws {
        let directory = try checkpoint(shards: ["s1.safetensors": ["a", "b"], "s2.safetensors": ["a", "c"]], weightMap: ["a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"])
        defer { directory.remove() }
        expectFileError(naming: directory.file("model.safetensors.index.json").path, containing: "tensor 'a' is in two shards, s1.safetensors and s2.safetensors") {
            _ = try ShardedSafeTensors(directory: directory.url)
        }
    }

    @Test func refusesATensorOutsideTheShardTheIndexNames() throws {
        let directory = try checkpoint(shards: ["s1.safetensors": ["a", "b"], "s2.safetensors": ["c"]], weightMap: ["a": "s1.safetensors", "b": "s2.safetensors", "c": "s2.safetensors"])
        defer { directory.remove() }
        expectFileError(naming: directory.file("model.safetensors.index.json").path, containing: "tensor 'b' is in shard s1.safetensors but the index names s2.safetensors") {
            _ = try ShardedSafeTensors(directory: directory.url)
        }
    }

    @Test func refusesAShardTensorMissingFromTheIndex() throws {
        let directory = try checkpoint(shards: ["s1.safetensors": ["a", "extra"]], weightMap: ["a": "s1.safetensors"])
        defer { directory.remove() }
        expectFileError(naming: directory.file("model.safetensors.index.json").path, containing: "tensor 'extra' of shard s1.safetensors is not in the weight_map") {
            _ = try ShardedSafeTensors(directory: directory.url)
        }
    }

    @Test func refusesAnIndexedTensorNoShardHolds() throws {
        let directory = try checkpoint(shards: ["s1.safetensors": ["a"], "s2.safetensors": ["c"]], weightMap: ["a": "s1.safetensors", "c": "s2.safetensors", "ghost": "s2.safetensors"])
        defer { directory.remove() }
        expectFileError(naming: directory.file("model.safetensors.index.json").path, containing: "tensor 'ghost' is not in shard s2.safetensors, where the index puts it") {
            _ = try ShardedSafeTensors(directory: directory.url)
        }
    }

    @Test func reportsAMissingShardByItsPath() throws {
        let directory = try checkpoint(shards: ["s1.safetensors": ["a"]], weightMap: ["a": "s1.safetensors", "b": "s2.safetensors"])
        defer { directory.remove() }
        expectFileError(naming: directory.file("s2.safetensors").path, containing: "cannot open: No such file or directory") {
            _ = try ShardedSafeTensors(directory: directory.url)
        }
    }

    @Test(arguments: [
        ("[]", "is a JSON array, not an object"),
        (#"{"metadata":{}}"#, "has no \"weight_map\""),
        (#"{"weight_map":[]}"#, "\"weight_map\" is a JSON array, not an object"),
        (#"{"weight_map":{"a":1}}"#, "weight_map entry for 'a' is a JSON integer, not a file name"),
        (#"{"metadata":{"total_size":-1},"weight_map":{}}"#, "metadata.total_size -1 is not a non-negative integer"),
        (#"{"metadata":{"total_size":"1"},"weight_map":{}}"#, "metadata.total_size \"1\" is not a non-negative integer"),
        (#"{"metadata":{"total_size":1.5},"weight_map":{}}"#, "metadata.total_size 1.5 is not a non-negative integer"),
        (#"{"metadata":3,"weight_map":{}}"#, "\"metadata\" is a JSON integer, not an object"),
        (#"{"weight_map":{}"#, "not valid JSON: unexpected end of input in an object"),
    ])
    func refusesMalformedIndexes(text: String, problem: String) {
        expectFileError(naming: "index.json", containing: problem) {
            _ = try SafeTensorsIndex(data: Data(text.utf8), name: "index.json")
        }
    }

    /// transformers reads the index with `json.load`: a repeated tensor name takes its last shard.
    @Test func aDuplicateIndexEntryTakesTheLastShardLikePython() throws {
        let index = try SafeTensorsIndex(data: Data(#"{"weight_map":{"a":"x.safetensors","a":"y.safetensors"}}"#.utf8), name: "index.json")
        #expect(index.weightMap == ["a": "y.safetensors"])
    }

    @Test func acceptsTheFloatTotalSizeTransformersWritesForBoolTensors() throws {
        let index = try SafeTensorsIndex(data: Data(#"{"metadata":{"total_size":12.0,"format":"pt"},"weight_map":{"a":"s.safetensors"}}"#.utf8), name: "i")
        #expect(index.totalSize == 12)
        #expect(index.metadata["format"] == "pt")
        let bare = try SafeTensorsIndex(data: Data(#"{"weight_map":{}}"#.utf8), name: "i")
        #expect(bare.totalSize == nil && bare.weightMap.isEmpty && bare.shardFiles.isEmpty)
    }
}
