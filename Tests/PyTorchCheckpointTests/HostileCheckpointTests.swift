import Foundation
import LSGErrors
import Testing

@testable import PyTorchCheckpoint

/// Archives that must be refused with a one-line error naming the file and the problem, and
/// without running anything.
@Suite(.serialized) struct HostileCheckpointTests {
    static let cases: [(file: String, kind: LSGError.Kind, problem: String)] = [
        ("reduce_os_system.bin", .refusedCode, "refuses global 'posix.system'"),
        // Protocol 2 spells Python 3's `builtins` the Python 2 way.
        ("builtins_eval.bin", .refusedCode, "refuses global '__builtin__.eval'"),
        ("unknown_global.bin", .refusedCode, "refuses global 'datetime.date'"),
        ("huge_memo_index.bin", .malformed, "memo index 4294967280 was never stored"),
        ("truncated_pickle.bin", .malformed, "pickle: truncated"),
        ("escaping_entry.bin", .malformed, "zip entry name 'archive/../../escaped' leaves the archive"),
        ("escaping_storage_key.bin", .malformed, "names storage '../0', which leaves the archive's data folder"),
        ("compressed.bin", .unsupported, "is compressed (method 8)"),
    ]

    @Test(arguments: cases)
    func isRefusedWithoutRunningCode(_ hostile: (file: String, kind: LSGError.Kind, problem: String)) throws {
        try? FileManager.default.removeItem(atPath: Fixtures.payloadMarker)
        let url = try Fixtures.url("hostile/\(hostile.file)")
        let error = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(contentsOf: url) }
        #expect(error.subject == url.path)
        #expect(error.problem.contains(hostile.problem), "\(error)")
        #expect(error.kind == hostile.kind, "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(!FileManager.default.fileExists(atPath: Fixtures.payloadMarker))
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pt-fifo-\(UUID().uuidString).bin").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect(throws: LSGError(.io, file: path, "not a regular file")) {
            try PyTorchCheckpointFile(contentsOf: URL(fileURLWithPath: path))
        }
    }

    @Test func aSymlinkToACheckpointReads() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pt-link-\(UUID().uuidString).bin").path
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: try Fixtures.url("state_dict.bin").path)
        defer { unlink(path) }
        #expect(try PyTorchCheckpointFile(contentsOf: URL(fileURLWithPath: path)).tensors.count == 15)
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let data = try Data(contentsOf: try Fixtures.url("state_dict.bin"))
        for length in stride(from: 0, to: data.count, by: 7) {
            #expect(throws: LSGError.self) { try PyTorchCheckpointFile(data: data.prefix(length), name: "cut") }
        }
    }

    @Test func everyFlippedByteIsAnErrorOrHarmless() throws {
        // CRC-32 catches damage to entries; damage to headers must be refused, never trap.
        let data = try Data(contentsOf: try Fixtures.url("state_dict.bin"))
        for position in stride(from: 0, to: data.count, by: 3) {
            var damaged = data
            damaged[position] ^= 0x5A
            _ = try? PyTorchCheckpointFile(data: damaged, name: "damaged")
        }
        let storage = try data.withUnsafeBytes { try ZipArchive(bytes: $0, file: "fixture") }.entry("state_dict/data/1")
        var damaged = data
        damaged[try #require(storage).range.lowerBound] ^= 0x01
        #expect(throws: LSGError.self) { try PyTorchCheckpointFile(data: damaged, name: "damaged") }
    }

    static let floats: [UInt8] = Array(repeating: 0, count: 24)  // 6 x F32

    static func refuse(_ pickle: [UInt8], storages: [String: [UInt8]] = ["0": floats]) throws -> String {
        let data = ZipFixture.checkpoint(pickle: pickle, storages: storages)
        let error = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: data, name: "crafted.bin") }
        return error.description
    }

    @Test func aHandWrittenCheckpointReads() throws {
        let pickle = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 6, offset: 2, shape: [2, 2], strides: [1, 2]) })])
        let file = try PyTorchCheckpointFile(data: ZipFixture.checkpoint(pickle: pickle, storages: ["0": Self.floats]), name: "crafted.bin")
        #expect(file.info("w")?.shape == [2, 2])
    }

    @Test func viewsOutsideTheirStorageAreRefused() throws {
        let past = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 6, offset: 3, shape: [2, 2], strides: [2, 1]) })])
        #expect(try Self.refuse(past).contains("reaches element 6 of storage '0', which holds 6"))
        let negative = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 6, offset: 0, shape: [2], strides: [-1]) })])
        #expect(try Self.refuse(negative).contains("negative size, stride or offset"))
        let huge = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 6, offset: 0, shape: [Int(Int32.max), Int(Int32.max), Int(Int32.max)], strides: [0, 0, 0]) })])
        #expect(try Self.refuse(huge).contains("more elements than a 64-bit count holds"))
        let mismatched = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 6, offset: 0, shape: [2, 3], strides: [3]) })])
        #expect(try Self.refuse(mismatched).contains("2 dimensions but 1 strides"))
    }

    @Test func storageSizesAndTypesMustAgree() throws {
        let short = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 7, offset: 0, shape: [7], strides: [1]) })])
        #expect(try Self.refuse(short).contains("storage '0' holds 24 bytes, not 7 x F32"))
        let twoTypes = PickleBuilder.stateDict([
            ("a", { $0.tensor(key: "0", count: 6, offset: 0, shape: [6], strides: [1]) }),
            ("b", { $0.tensor(storageType: "IntStorage", key: "0", count: 6, offset: 0, shape: [6], strides: [1]) }),
        ])
        #expect(try Self.refuse(twoTypes).contains("storage '0' is used as torch.FloatStorage of 6 and as torch.IntStorage of 6"))
        let missing = PickleBuilder.stateDict([("w", { $0.tensor(key: "9", count: 6, offset: 0, shape: [6], strides: [1]) })])
        #expect(try Self.refuse(missing).contains("uses storage '9', which the archive lacks"))
        let unknownStorage = PickleBuilder.stateDict([("w", { $0.tensor(storageType: "QInt8Storage", key: "0", count: 6, offset: 0, shape: [6], strides: [1]) })])
        #expect(try Self.refuse(unknownStorage).contains("refuses global 'torch.QInt8Storage'"))
    }

    @Test func onlyStateDictShapesAreAccepted() throws {
        var list = PickleBuilder()
        list.op("]"); list.op(".")
        #expect(try Self.refuse(list.bytes).contains("holds a list, not a state dict"))
        var number = PickleBuilder()
        number.op("}"); number.string("x"); number.int(3); number.op("s"); number.op(".")
        #expect(try Self.refuse(number.bytes).contains("entry 'x' is a int, not a tensor"))
        var callsStorage = PickleBuilder()
        callsStorage.global("torch", "FloatStorage"); callsStorage.op(")"); callsStorage.op("R"); callsStorage.op(".")
        #expect(try Self.refuse(callsStorage.bytes).contains("which only names a storage type"))
        var oldString = PickleBuilder()
        oldString.raw(Array("S'x'\n.".utf8))
        #expect(try Self.refuse(oldString.bytes).contains("opcode STRING (0x53) at byte 2 is not allowed"))
        var stackGlobal = PickleBuilder()
        stackGlobal.string("os"); stackGlobal.string("system"); stackGlobal.raw([0x93]); stackGlobal.op(".")
        #expect(try Self.refuse(stackGlobal.bytes).contains("refuses global 'os.system'"))
        var build = PickleBuilder()
        build.global("collections", "OrderedDict"); build.op("N"); build.op("b"); build.op(".")
        #expect(try Self.refuse(build.bytes).contains("BUILD at byte"))
    }

    @Test func resourceLimitsHold() throws {
        var deep = PickleBuilder()
        for _ in 0..<100 { deep.op("(") }
        #expect(try Self.refuse(deep.bytes).contains("MARKs nested deeper than 64"))
        var limits = PyTorchCheckpointFile.Limits()
        limits.maxStackDepth = 1000
        var wide = PickleBuilder()
        for _ in 0..<1001 { wide.op("N") }
        let wideArchive = ZipFixture.checkpoint(pickle: wide.bytes, storages: [:])
        let stackError = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: wideArchive, name: "wide", limits: limits) }
        #expect(stackError.problem.contains("stack deeper than 1000"))
        limits.maxMemoEntries = 10
        var memo = PickleBuilder()
        memo.op("N")
        for index in 0..<11 { memo.op("r"); memo.raw(withUnsafeBytes(of: UInt32(index * 1000).littleEndian, Array.init)) }
        let memoArchive = ZipFixture.checkpoint(pickle: memo.bytes, storages: [:])
        let memoError = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: memoArchive, name: "memo", limits: limits) }
        #expect(memoError.problem.contains("memo holds more than 10 values"))
        limits.maxPickleBytes = 8
        let bigPickle = try #require(throws: LSGError.self) {
            try PyTorchCheckpointFile(data: ZipFixture.checkpoint(pickle: Array(repeating: 0x4E, count: 9), storages: [:]), name: "big", limits: limits)
        }
        #expect(bigPickle.problem.contains("pickle: runs past byte 8, longer than the limit of 8 bytes"))
    }

    @Test func nestingIsBoundedAndNoValueHoldsItself() throws {
        // A million nested tuples used to overflow the stack when the value was freed.
        var deep = PickleBuilder()
        deep.op("N"); deep.raw(Array(repeating: 0x85, count: 1_000_000)); deep.op(".")
        #expect(try Self.refuse(deep.bytes).contains("pickle: values nested deeper than 64 at byte 67"))
        var deepLists = PickleBuilder()
        for _ in 0..<100 { deepLists.op("]") }
        for _ in 0..<99 { deepLists.op("a") }
        deepLists.op(".")
        #expect(try Self.refuse(deepLists.bytes).contains("values nested deeper than 64"))

        var selfList = PickleBuilder()
        selfList.op("]"); selfList.op("q"); selfList.raw([0]); selfList.op("h"); selfList.raw([0]); selfList.op("a"); selfList.op(".")
        #expect(try Self.refuse(selfList.bytes).contains("APPEND(S) at byte 7 puts a list inside itself"))
        var selfDict = PickleBuilder()
        selfDict.op("}"); selfDict.op("q"); selfDict.raw([0]); selfDict.string("k"); selfDict.op("h"); selfDict.raw([0]); selfDict.op("s"); selfDict.op(".")
        #expect(try Self.refuse(selfDict.bytes).contains("puts a dict inside itself"))
        // Two lists inside each other: the first is frozen once inside the second.
        var loop = PickleBuilder()
        loop.op("]"); loop.op("q"); loop.raw([0]); loop.op("]"); loop.op("q"); loop.raw([1])
        loop.op("h"); loop.raw([0]); loop.op("a"); loop.op("0"); loop.op("h"); loop.raw([1]); loop.op("a"); loop.op(".")
        #expect(try Self.refuse(loop.bytes).contains("on a list already inside another value"))
    }

    @Test func damagedArchivesAreRefused() throws {
        let pickle = PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: 6, offset: 0, shape: [6], strides: [1]) })])
        let archive = ZipFixture.checkpoint(pickle: pickle, storages: ["0": Array(repeating: 7, count: 24)])
        let position = try #require(archive.firstRange(of: Data(repeating: 7, count: 24))).lowerBound
        var badCRC = [UInt8](archive)
        badCRC[position] = 8
        let crcError = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: Data(badCRC), name: "crc") }
        #expect(crcError.problem == "zip entry 'archive/data/0' fails its CRC-32 check")

        let twice = ZipFixture.archive([("archive/data.pkl", pickle), ("archive/data.pkl", pickle)])
        #expect(throws: LSGError(.malformed, file: "twice", "zip entry 'archive/data.pkl' appears twice")) {
            try PyTorchCheckpointFile(data: twice, name: "twice")
        }
        let twoFolders = ZipFixture.archive([("archive/data.pkl", pickle), ("other/data/0", Self.floats)])
        #expect(throws: LSGError.self) { try PyTorchCheckpointFile(data: twoFolders, name: "two") }
        let script = ZipFixture.archive([("archive/data.pkl", pickle), ("archive/constants.pkl", pickle)])
        let scriptError = try #require(throws: LSGError.self) { try PyTorchCheckpointFile(data: script, name: "script") }
        #expect(scriptError.problem.contains("TorchScript"))
        #expect(throws: LSGError(.malformed, file: "text", "not a PyTorch checkpoint (neither a torch zip archive nor a legacy pickle)")) {
            try PyTorchCheckpointFile(data: Data("hello world".utf8), name: "text")
        }
    }
}
