import Foundation
import LSGErrors
import SafeTensors
import Testing

@testable import PyTorchCheckpoint

/// torch's legacy layout (`torch.save(..., _use_new_zipfile_serialization=False)`), read from
/// files torch 2.2.2 wrote (`Resources/make_legacy_fixtures.py`) and compared with the zip
/// format file of the same state dict.
@Suite struct LegacyCheckpointTests {
    static func open(_ path: String) throws -> PyTorchCheckpointFile {
        try PyTorchCheckpointFile(contentsOf: try Fixtures.url(path))
    }

    @Test func everyTensorEqualsTheZipFormatFileOfTheSameStateDict() throws {
        let legacy = try Self.open("legacy/state_dict.bin")
        let zip = try Self.open("legacy/state_dict_zip.bin")
        #expect(legacy.names == zip.names)
        #expect(!legacy.isBigEndian)
        for name in zip.names {
            let ours = try #require(legacy.info(name)), theirs = try #require(zip.info(name))
            #expect(ours.dtype == theirs.dtype && ours.shape == theirs.shape && ours.strides == theirs.strides, "\(name)")
            #expect(ours.storageOffset == theirs.storageOffset, "\(name)")
            #expect(try legacy.withBytes(of: name, Array.init) == (try zip.withBytes(of: name, Array.init)), "\(name)")
        }
    }

    @Test func dtypesSharedStoragesAndViewsAreTheOnesTorchSaved() throws {
        let file = try Self.open("legacy/state_dict.bin")
        let weight = try #require(file.info("embeddings.word_embeddings.weight"))
        #expect(weight.dtype == .f32 && weight.shape == [4, 3])
        for tied in ["lm_head.decoder.weight", "row_slice", "transposed", "column_slice"] {
            #expect(file.info(tied)?.storageKey == weight.storageKey, "\(tied)")
        }
        #expect(file.info("row_slice")?.storageOffset == 3)
        #expect(file.info("transposed")?.strides == [1, 3] && file.info("transposed")?.isContiguous == false)
        #expect(file.info("column_slice")?.strides == [3, 2])
        #expect(file.info("f16")?.dtype == .f16 && file.info("bf16")?.dtype == .bf16 && file.info("bool")?.dtype == .bool)
        #expect(file.info("empty")?.byteCount == 0 && file.info("scalar")?.shape == [])

        let positionIDs = try #require(file.info("embeddings.position_ids"))
        #expect(positionIDs.dtype == .i64 && positionIDs.shape == [1, 6])
        let values = try file.withBytes(of: "embeddings.position_ids") { bytes in
            (0..<6).map { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
        #expect(values == [0, 1, 2, 3, 4, 5])
        let rows = try file.withBytes(of: "row_slice") { Array($0) }
        let whole = try file.withBytes(of: "embeddings.word_embeddings.weight") { Array($0) }
        #expect(rows == Array(whole[12...]))
    }

    @Test func safeTensorsImageEqualsTheZipFormatFilesImage() throws {
        let legacy = try Self.open("legacy/state_dict.bin").safeTensors()
        let zip = try Self.open("legacy/state_dict_zip.bin").safeTensors()
        #expect(legacy.names == zip.names)
        for name in zip.names {
            #expect(try legacy.withBytes(of: name, Array.init) == (try zip.withBytes(of: name, Array.init)), "\(name)")
        }
    }

    @Test func aShardedIndexOfLegacyShardsReads() throws {
        let sharded = try PyTorchShardedCheckpoint(indexURL: try Fixtures.url("legacy/sharded/pytorch_model.bin.index.json"))
        let single = try Self.open("legacy/state_dict_zip.bin")
        #expect(sharded.shards.count == 2)
        #expect(Set(sharded.names) == Set(single.names))
        for name in single.names {
            #expect(try sharded.withBytes(of: name, Array.init) == (try single.withBytes(of: name, Array.init)), "\(name)")
        }
    }

    /// torch before 1.0 wrote views of storages under their own keys; a tensor on one counts
    /// from the view's start.
    @Test func storageViewsRead() throws {
        let pickle = LegacyFixture.oneTensor(offset: 1, shape: [2], view: .view(key: "v", offset: 2, size: 3))
        let file = try PyTorchCheckpointFile(data: LegacyFixture.file(pickle: pickle, keys: ["0"], storages: LegacyFixture.floats(6)), name: "views.bin")
        #expect(file.info("w")?.storageOffset == 3)
        let values = try file.withBytes(of: "w") { bytes in (0..<2).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        #expect(values == [3, 4])
    }

    @Test func laterPickleProtocolsRead() throws {
        // Protocol 4 frames: `torch.save(..., pickle_protocol=4)`; the reader skips FRAME.
        var magic = LegacyFixture.magic
        magic[1] = 4
        magic.insert(contentsOf: [0x95] + withUnsafeBytes(of: UInt64(13).littleEndian, Array.init), at: 2)
        let data = LegacyFixture.file(header: magic + LegacyFixture.version() + LegacyFixture.sysInfo(),
                                      pickle: LegacyFixture.oneTensor(), keys: ["0"], storages: LegacyFixture.floats(6))
        #expect(try PyTorchCheckpointFile(data: data, name: "protocol4.bin").info("w")?.shape == [6])
    }
}

/// Legacy files that must be refused with a one-line error naming the file and the problem,
/// quickly and without running anything.
@Suite(.serialized) struct HostileLegacyCheckpointTests {
    static func refuse(_ data: Data, limits: PyTorchCheckpointFile.Limits = PyTorchCheckpointFile.Limits()) throws -> String {
        let start = ContinuousClock.now
        let error = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: data, name: "crafted.bin", limits: limits) }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(error.subject == "crafted.bin")
        #expect(!error.description.contains("\n"))
        return error.problem
    }

    static func refuse(pickle: [UInt8] = LegacyFixture.oneTensor(), keys: [String] = ["0"],
                       storages: [UInt8] = LegacyFixture.floats(6)) throws -> String {
        try refuse(LegacyFixture.file(pickle: pickle, keys: keys, storages: storages))
    }

    @Test func aHandWrittenFileReads() throws {
        let file = try PyTorchCheckpointFile(data: LegacyFixture.file(pickle: LegacyFixture.oneTensor(), keys: ["0"], storages: LegacyFixture.floats(6)),
                                             name: "crafted.bin")
        #expect(try file.withBytes(of: "w") { $0.loadUnaligned(fromByteOffset: 20, as: Float.self) } == 5)
    }

    @Test(arguments: [
        ("os_system.bin", "refuses global 'posix.system'"),
        ("builtins_eval.bin", "refuses global '__builtin__.eval'"),
    ])
    func payloadsWrittenByTorchAreRefusedWithoutRunning(_ file: String, _ problem: String) throws {
        try? FileManager.default.removeItem(atPath: Fixtures.payloadMarker)
        let url = try Fixtures.url("legacy/hostile/\(file)")
        let error = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(contentsOf: url) }
        #expect(error.subject == url.path)
        #expect(error.problem.contains(problem), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: Fixtures.payloadMarker))
    }

    @Test(arguments: [("os", "system"), ("posix", "system"), ("builtins", "eval")])
    func stackGlobalCallsAreRefused(_ module: String, _ name: String) throws {
        var pickle = PickleBuilder()
        pickle.string(module); pickle.string(name); pickle.raw([0x93]); pickle.string("touch \(Fixtures.payloadMarker)"); pickle.raw([0x85]); pickle.op("R"); pickle.op(".")
        #expect(try Self.refuse(pickle: pickle.bytes).contains("refuses global '\(module).\(name)'"))
    }

    @Test func everyTruncationIsRefused() throws {
        let data = try Data(contentsOf: try Fixtures.url("legacy/state_dict.bin"))
        for length in 0..<data.count {
            let error = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: data.prefix(length), name: "cut.bin") }
            #expect(error.description.hasPrefix("cut.bin: ") && !error.description.contains("\n"))
        }
        let lastByte = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: data.dropLast(), name: "cut.bin") }
        // The last storage's bytes or, if it is empty, its count.
        #expect(lastByte.problem.contains("runs past the end of the file (\(data.count - 1) bytes)"))
    }

    @Test func everyFlippedByteIsAnErrorOrHarmless() throws {
        let data = try Data(contentsOf: try Fixtures.url("legacy/state_dict.bin"))
        for position in 0..<data.count {
            var damaged = data
            damaged[position] ^= 0x5A
            if let file = try? PyTorchCheckpointFile(data: damaged, name: "damaged.bin") {
                for tensor in file.tensors { #expect(try file.withBytes(of: tensor.name) { $0.count } == tensor.byteCount) }
            }
        }
    }

    @Test func storagesMustFitTheFileAndMatchTheirDeclaredCount() throws {
        let short = LegacyFixture.storage(count: 6, Array(repeating: 0, count: 20))
        #expect(try Self.refuse(storages: short).contains("storage '0' (6 x F32 = 24 bytes from byte"))
        #expect(try Self.refuse(storages: short).contains("runs past the end of the file"))
        #expect(try Self.refuse(storages: [1, 0, 0]).contains("truncated: the element count of storage '0' at byte"))
        let wrongCount = LegacyFixture.storage(count: 5, Array(repeating: 0, count: 20))
        #expect(try Self.refuse(storages: wrongCount).contains("storage '0' holds 5 elements (count at byte"))
        let hugeCount = LegacyFixture.storage(count: .max, Array(repeating: 0, count: 24))
        #expect(try Self.refuse(storages: hugeCount).contains("holds 18446744073709551615 elements"))
        let trailing = LegacyFixture.floats(6) + [0]
        #expect(try Self.refuse(storages: trailing).contains("1 bytes follow the last storage"))
    }

    @Test func aCountWhoseByteSizeOverflowsIsRefused() throws {
        let pickle = LegacyFixture.oneTensor(count: Int(Int64.max), shape: [1])
        let storage = LegacyFixture.storage(count: UInt64(Int64.max), [])
        #expect(try Self.refuse(pickle: pickle, storages: storage).contains("storage '0' of 9223372036854775807 x F32 has a byte size that overflows"))
    }

    @Test func theKeyListMustNameEachUsedStorageOnce() throws {
        #expect(try Self.refuse(keys: ["0", "0"], storages: LegacyFixture.floats(6) + LegacyFixture.floats(6)).contains("storage '0' is listed twice"))
        #expect(try Self.refuse(keys: ["0", "1"], storages: LegacyFixture.floats(6) + LegacyFixture.floats(1))
            .contains("storage '1' is in the storage key list but no tensor uses it"))
        #expect(try Self.refuse(keys: [], storages: []).contains("tensor 'w' uses storage '0', which the storage key list lacks"))
        var numbers = PickleBuilder()
        numbers.op("]"); numbers.int(0); numbers.op("a"); numbers.op(".")
        let badList = try Self.refuse(Data(LegacyFixture.header + LegacyFixture.oneTensor() + numbers.bytes + LegacyFixture.floats(6)))
        #expect(badList.contains("the storage key list at byte") && badList.contains("holds a value that is not a string"))
    }

    @Test func tensorsMustStayInsideTheirStorageOrView() throws {
        #expect(try Self.refuse(pickle: LegacyFixture.oneTensor(shape: [7])).contains("reaches element 6 of storage '0', which holds 6"))
        #expect(try Self.refuse(pickle: LegacyFixture.oneTensor(offset: 5, shape: [2])).contains("reaches element 6 of storage '0'"))
        #expect(try Self.refuse(pickle: LegacyFixture.oneTensor(shape: [4], strides: [2])).contains("reaches element 6 of storage '0'"))
        let pastView = LegacyFixture.oneTensor(shape: [4], view: .view(key: "v", offset: 2, size: 3))
        #expect(try Self.refuse(pickle: pastView).contains("reaches element 3 of storage view 'v', which holds 3"))
        let outside = LegacyFixture.oneTensor(shape: [1], view: .view(key: "v", offset: 4, size: 3))
        #expect(try Self.refuse(pickle: outside).contains("storage '0' has a view 'v' of 3 elements at offset 4, outside its 6 elements"))
        let negative = LegacyFixture.oneTensor(shape: [1], view: .view(key: "v", offset: -1, size: 1))
        #expect(try Self.refuse(pickle: negative).contains("has a view 'v' of 1 elements at offset -1"))
        let emptyFarAway = LegacyFixture.oneTensor(offset: Int(Int64.max), shape: [0], view: .view(key: "v", offset: 1, size: 1))
        #expect(try Self.refuse(pickle: emptyFarAway).contains("reaches past any storage"))
    }

    @Test func viewsMustAgreeAndNotShadowStorages() throws {
        let twoViews = PickleBuilder.stateDict([
            ("a", { $0.tensor(key: "0", count: 6, offset: 0, shape: [1], strides: [1], legacyView: .view(key: "v", offset: 0, size: 2)) }),
            ("b", { $0.tensor(key: "0", count: 6, offset: 0, shape: [1], strides: [1], legacyView: .view(key: "v", offset: 1, size: 2)) }),
        ])
        #expect(try Self.refuse(pickle: twoViews).contains("storage view 'v' is 2 elements at offset 0 of storage '0' and 2 at offset 1 of storage '0'"))
        let shadow = LegacyFixture.oneTensor(shape: [1], view: .view(key: "0", offset: 0, size: 2))
        #expect(try Self.refuse(pickle: shadow).contains("storage view '0' has the key of a storage"))
        var notAView = PickleBuilder()
        notAView.op("}"); notAView.string("w")
        notAView.tensor(key: "0", count: 6, offset: 0, shape: [6], strides: [1])  // the zip format's five fields
        notAView.op("s"); notAView.op(".")
        #expect(try Self.refuse(pickle: notAView.bytes).contains("persistent id is not a ('storage', type, key, location, size, view) tuple"))
    }

    @Test func theHeaderPicklesMustBeTorchs() throws {
        let body = LegacyFixture.oneTensor() + LegacyFixture.keyList(["0"]) + LegacyFixture.floats(6)
        var five = PickleBuilder()
        five.int(5); five.op(".")
        #expect(try Self.refuse(Data(five.bytes + body)).contains("begins with a pickle that is not torch's magic number 0x1950a86a20f9469cfc6c"))
        #expect(try Self.refuse(Data(LegacyFixture.magic + LegacyFixture.version(1000) + LegacyFixture.sysInfo() + body))
            .contains("legacy torch.save format version is 1000, not 1001"))
        #expect(try Self.refuse(Data(LegacyFixture.magic + LegacyFixture.version() + LegacyFixture.sysInfo(littleEndian: false) + body))
            .contains("was saved on a big-endian machine"))
        #expect(try Self.refuse(Data(LegacyFixture.magic + LegacyFixture.version() + LegacyFixture.version() + body))
            .contains("the legacy sys info at byte \(LegacyFixture.magic.count + LegacyFixture.version().count) is not a dict"))
        #expect(try Self.refuse(Data([0x80, 2, UInt8(ascii: "N")])).contains("pickle: truncated at byte 3"))
        #expect(try Self.refuse(Data("hello".utf8)) == "not a PyTorch checkpoint (neither a torch zip archive nor a legacy pickle)")
    }

    @Test func onlyAStateDictIsAccepted() throws {
        var list = PickleBuilder()
        list.op("]"); list.op(".")
        #expect(try Self.refuse(pickle: list.bytes).contains("the pickle at byte \(LegacyFixture.header.count) holds a list, not a state dict"))
    }

    @Test func resourceLimitsHoldInEveryPickle() throws {
        var memo = PickleBuilder()
        memo.raw([UInt8(ascii: "j"), 0xF0, 0xFF, 0xFF, 0xFF]); memo.op(".")
        #expect(try Self.refuse(pickle: memo.bytes).contains("memo index 4294967280 was never stored"))
        var deep = PickleBuilder()
        deep.op("N"); deep.raw(Array(repeating: 0x85, count: 100_000)); deep.op(".")
        #expect(try Self.refuse(pickle: deep.bytes).contains("values nested deeper than 64"))
        var marks = PickleBuilder()
        for _ in 0..<100 { marks.op("(") }
        #expect(try Self.refuse(pickle: marks.bytes).contains("MARKs nested deeper than 64"))

        // The limit holds the header pickles but not the state dict's.
        var limits = PyTorchCheckpointFile.Limits()
        limits.maxPickleBytes = LegacyFixture.sysInfo().count
        #expect(LegacyFixture.oneTensor().count > limits.maxPickleBytes)
        let longPickle = try Self.refuse(LegacyFixture.file(pickle: LegacyFixture.oneTensor(), keys: ["0"], storages: LegacyFixture.floats(6)), limits: limits)
        let limitEnd = LegacyFixture.header.count + limits.maxPickleBytes
        #expect(longPickle.contains("pickle: runs past byte \(limitEnd), longer than the limit of \(limits.maxPickleBytes) bytes"))
    }
}
