import Foundation

@testable import PyTorchCheckpoint

/// Builds files in torch's legacy layout by hand, for files torch would never write: the magic
/// number, version and sys info pickles, a state dict pickle, the storage key list, then the
/// storages.
enum LegacyFixture {
    static let magic: [UInt8] = [0x80, 2, 0x8A, 10] + LegacyLayout.magicNumber + [UInt8(ascii: ".")]

    static func version(_ number: Int = 1001) -> [UInt8] {
        var builder = PickleBuilder()
        builder.int(number); builder.op(".")
        return builder.bytes
    }

    static func sysInfo(littleEndian: Bool = true) -> [UInt8] {
        var builder = PickleBuilder()
        builder.op("}"); builder.op("(")
        builder.string("protocol_version"); builder.int(1001)
        builder.string("little_endian"); builder.raw([littleEndian ? 0x88 : 0x89])
        builder.string("type_sizes"); builder.op("}"); builder.op("(")
        for (name, size) in [("short", 2), ("int", 4), ("long", 4)] { builder.string(name); builder.int(size) }
        builder.op("u"); builder.op("u"); builder.op(".")
        return builder.bytes
    }

    static let header = magic + version() + sysInfo()

    static func keyList(_ keys: [String]) -> [UInt8] {
        var builder = PickleBuilder()
        builder.op("]"); builder.op("(")
        keys.forEach { builder.string($0) }
        builder.op("e"); builder.op(".")
        return builder.bytes
    }

    /// A storage as it follows the pickles: its element count, then its bytes.
    static func storage(count: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: count.littleEndian, Array.init) + bytes
    }

    /// Floats 0, 1, 2, … as a storage.
    static func floats(_ count: Int) -> [UInt8] {
        storage(count: UInt64(count), (0..<count).flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) })
    }

    static func file(header: [UInt8] = header, pickle: [UInt8], keys: [String], storages: [UInt8]) -> Data {
        Data(header + pickle + keyList(keys) + storages)
    }

    /// A state dict of one tensor `w` on storage `0` of 6 floats, as `PickleBuilder.tensor` takes it.
    static func oneTensor(count: Int = 6, offset: Int = 0, shape: [Int] = [6], strides: [Int] = [1],
                          view: PickleBuilder.LegacyView = .noView) -> [UInt8] {
        PickleBuilder.stateDict([("w", { $0.tensor(key: "0", count: count, offset: offset, shape: shape, strides: strides, legacyView: view) })])
    }
}
