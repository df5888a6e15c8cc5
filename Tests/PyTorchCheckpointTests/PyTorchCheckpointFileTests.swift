import Foundation
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
}
