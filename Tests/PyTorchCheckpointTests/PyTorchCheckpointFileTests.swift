import Foundation
import JSON
import LSGErrors
import SafeTensors
import Testing

@testable import PyTorchCheckpoint

@Suite struct PyTorchCheckpointFileTests {
    @Test func readsEveryDTypeViewAndSharedStorage() throws {
        let file = try PyTorchCheckpointFile(contentsOf: try Fixtures.url("state_dict.bin"))
        #expect(file.names == ["f32", "tied", "transposed", "row_slice", "column_slice", "f16", "bf16", "f64", "i64",
                               "i32", "u8", "bool", "scalar", "empty", "parameter"])
        let f32 = try #require(file.info("f32"))
        let tied = try #require(file.info("tied"))
        let transposed = try #require(file.info("transposed"))
        #expect(tied.storageKey == f32.storageKey && transposed.storageKey == f32.storageKey)
        #expect(f32.isContiguous && !transposed.isContiguous)
        #expect(transposed.shape == [4, 3] && transposed.strides == [1, 4])
        #expect(file.info("row_slice")?.storageOffset == 4)
        #expect(file.info("scalar")?.shape == [] && file.info("scalar")?.elementCount == 1)
        #expect(file.info("empty")?.shape == [0, 3] && file.info("empty")?.byteCount == 0)
        #expect(file.info("bf16")?.dtype == .bf16 && file.info("bool")?.dtype == .bool && file.info("u8")?.dtype == .u8)
    }

    /// Every tensor, views included, equals byte for byte what torch made contiguous and
    /// safetensors wrote.
    @Test func bytesEqualTheSafeTensorsWrittenByTorch() throws {
        let file = try PyTorchCheckpointFile(contentsOf: try Fixtures.url("state_dict.bin"))
        let expected = try SafeTensorsFile(contentsOf: try Fixtures.url("state_dict.safetensors"))
        #expect(Set(expected.names) == Set(file.names))
        for name in expected.names {
            let info = try #require(expected.info(name))
            #expect(file.info(name)?.dtype == info.dtype && file.info(name)?.shape == info.shape, "\(name)")
            let ours = try file.withBytes(of: name) { Array($0) }
            let theirs = try expected.withBytes(of: name) { Array($0) }
            #expect(ours == theirs, "\(name)")
        }
    }

    @Test func safeTensorsImageKeepsStateDictOrderAndValues() throws {
        let file = try PyTorchCheckpointFile(contentsOf: try Fixtures.url("state_dict.bin"))
        let image = try file.safeTensors()
        let expected = try SafeTensorsFile(contentsOf: try Fixtures.url("state_dict.safetensors"))
        #expect(image.names == file.names)
        #expect(image.name == file.name)
        for name in expected.names {
            #expect(try image.withBytes(of: name, Array.init) == (try expected.withBytes(of: name, Array.init)), "\(name)")
        }
        #expect(try image.floats("transposed") == (try expected.floats("transposed")))
    }

    @Test func safeTensorsImageLeavesNoFileBehindAndNamesTheCheckpointOnFailure() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lsg-bin-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try PyTorchCheckpointFile(contentsOf: try Fixtures.url("state_dict.bin"))
        let image = try file.safeTensors(temporaryDirectory: directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        #expect(try image.withBytes(of: "f32", Array.init) == (try file.withBytes(of: "f32", Array.init)))

        let missing = directory.appendingPathComponent("missing")
        #expect {
            _ = try file.safeTensors(temporaryDirectory: missing)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(file.name + ": ") && text.contains("cannot create " + missing.path) && !text.contains("\n")
        }
    }

    /// `save_pretrained(safe_serialization=False)` of the golden CamemBERT fixture holds the
    /// same tensors as its model.safetensors (plus the tied LM decoder, sharing storages).
    @Test func camembertBinMatchesTheGoldenSafeTensors() throws {
        let file = try PyTorchCheckpointFile(contentsOf: try Fixtures.url("camembert-tiny/pytorch_model.bin"))
        let golden = try SafeTensorsFile(contentsOf: Fixtures.camembertSafeTensors)
        // The tied copies safetensors leaves out share a storage with the weights they mirror.
        #expect(Set(file.names).subtracting(golden.names) == ["lm_head.decoder.weight", "lm_head.decoder.bias"])
        #expect(Set(golden.names).isSubset(of: file.names))
        #expect(file.info("lm_head.decoder.weight")?.storageKey == file.info("roberta.embeddings.word_embeddings.weight")?.storageKey)
        #expect(file.info("lm_head.decoder.bias")?.storageKey == file.info("lm_head.bias")?.storageKey)
        for name in golden.names {
            #expect(try file.withBytes(of: name, Array.init) == (try golden.withBytes(of: name, Array.init)), "\(name)")
        }
    }

    @Test func shardedBinMatchesTheSingleFile() throws {
        let sharded = try PyTorchShardedCheckpoint(indexURL: try Fixtures.url("camembert-tiny-sharded/pytorch_model.bin.index.json"))
        let single = try PyTorchCheckpointFile(contentsOf: try Fixtures.url("camembert-tiny/pytorch_model.bin"))
        #expect(sharded.shards.count == 2)
        #expect(Set(sharded.names) == Set(single.names))
        for name in single.names {
            #expect(try sharded.withBytes(of: name, Array.init) == (try single.withBytes(of: name, Array.init)), "\(name)")
        }
    }

    @Test func bigEndianArchivesAreSwapped() throws {
        // Rewrite the byteorder entry of a tiny archive and swap its storage bytes by hand.
        let source = try Data(contentsOf: try Fixtures.url("state_dict.bin"))
        let little = try PyTorchCheckpointFile(data: source, name: "little")
        let big = try ZipFixture.rewritten(source) { name, bytes in
            if name.hasSuffix("/byteorder") { return Array("big".utf8) }
            guard let key = name.split(separator: "/data/").last.map(String.init), name.contains("/data/") else { return bytes }
            let width = little.tensors.first { $0.storageKey == key }!.dtype.bitWidth / 8
            return stride(from: 0, to: bytes.count, by: width).flatMap { bytes[$0..<($0 + width)].reversed() }
        }
        let swapped = try PyTorchCheckpointFile(data: big, name: "big")
        #expect(swapped.isBigEndian)
        for name in little.names {
            #expect(try swapped.withBytes(of: name, Array.init) == (try little.withBytes(of: name, Array.init)), "\(name)")
        }
    }

    @Test func zip64ArchivesRead() throws {
        let source = try Data(contentsOf: try Fixtures.url("state_dict.bin"))
        let entries = try source.withUnsafeBytes { bytes in
            try ZipArchive(bytes: bytes, file: "fixture").entries.map { ($0.name, Array(bytes[$0.range])) }
        }
        let zip64 = ZipFixture.archive(entries.map { (name: $0.0, bytes: $0.1) }, zip64: true)
        let file = try PyTorchCheckpointFile(data: zip64, name: "zip64")
        let original = try PyTorchCheckpointFile(data: source, name: "original")
        #expect(file.names == original.names)
        for name in original.names {
            #expect(try file.withBytes(of: name, Array.init) == (try original.withBytes(of: name, Array.init)), "\(name)")
        }
    }
}

/// Sharded `.bin` indexes follow the safetensors sharding rules.
@Suite struct ShardedCheckpointTests {
    static let shardNames = ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]

    /// A copy of the sharded fixture whose index is `change`d.
    static func refuse(_ change: (inout [String: String]) -> Void) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pt-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in shardNames {
            try FileManager.default.copyItem(at: try Fixtures.url("camembert-tiny-sharded/\(name)"), to: directory.appendingPathComponent(name))
        }
        let index = try JSONValue.load(contentsOf: try Fixtures.url("camembert-tiny-sharded/pytorch_model.bin.index.json"))
        var weightMap = try #require(index["weight_map"]?.objectValue).reduce(into: [String: String]()) { $0[$1.key] = $1.value.stringValue }
        change(&weightMap)
        let json = JSONValue.object(["weight_map": .object(JSONObject(weightMap.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))])
        let indexURL = directory.appendingPathComponent(PyTorchShardedCheckpoint.indexFileName)
        try Data(json.compactString().utf8).write(to: indexURL)
        let error = try #require(throws: LSGError.self) { try PyTorchShardedCheckpoint(indexURL: indexURL) }
        #expect(error.subject == indexURL.path)
        return error.problem
    }

    @Test func shardNamesMayNotLeaveTheDirectory() throws {
        let problem = try Self.refuse { $0["lm_head.bias"] = "../pytorch_model-00001-of-00002.bin" }
        #expect(problem.contains("leaves the model directory"))
    }

    @Test func tensorsMustSitInTheShardTheIndexNames() throws {
        let problem = try Self.refuse { map in
            let name = map.first { $0.value == Self.shardNames[0] }!.key
            map[name] = Self.shardNames[1]
        }
        #expect(problem.contains("but the index names pytorch_model-00002-of-00002.bin"))
    }

    @Test func everyShardTensorMustBeIndexedAndEveryIndexedTensorPresent() throws {
        #expect(try Self.refuse { $0["lm_head.bias"] = nil }.contains("tensor 'lm_head.bias' of shard"))
        #expect(try Self.refuse { $0["extra.weight"] = Self.shardNames[0] }.contains("tensor 'extra.weight' is not in shard"))
    }

    @Test func aTensorInTwoShardsIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pt-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The second shard is the whole model, so it repeats every tensor of the first.
        try FileManager.default.copyItem(at: try Fixtures.url("camembert-tiny-sharded/\(Self.shardNames[0])"),
                                         to: directory.appendingPathComponent(Self.shardNames[0]))
        try FileManager.default.copyItem(at: try Fixtures.url("camembert-tiny/pytorch_model.bin"), to: directory.appendingPathComponent(Self.shardNames[1]))
        let indexURL = directory.appendingPathComponent(PyTorchShardedCheckpoint.indexFileName)
        try FileManager.default.copyItem(at: try Fixtures.url("camembert-tiny-sharded/\(PyTorchShardedCheckpoint.indexFileName)"), to: indexURL)
        let error = try #require(throws: LSGError.self) { try PyTorchShardedCheckpoint(indexURL: indexURL) }
        #expect(error.problem.contains("is in two shards"))
    }
}
