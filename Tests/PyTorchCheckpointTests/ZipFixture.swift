import Foundation

@testable import PyTorchCheckpoint

/// Builds stored (uncompressed) zip archives by hand, for archives torch would never write.
enum ZipFixture {
    /// With `zip64`, the central directory saturates sizes and offsets and carries them in zip64
    /// extra fields, and a zip64 end record with its locator precedes the classic one.
    static func archive(_ entries: [(name: String, bytes: [UInt8])], zip64: Bool = false) -> Data {
        var output = [UInt8]()
        var central = [UInt8]()
        func u16(_ value: Int, into buffer: inout [UInt8]) { buffer += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func u32(_ value: UInt32, into buffer: inout [UInt8]) { for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(value >> UInt32(shift) & 0xFF)) } }
        func u64(_ value: UInt64, into buffer: inout [UInt8]) { for shift in stride(from: 0, to: 64, by: 8) { buffer.append(UInt8(value >> UInt64(shift) & 0xFF)) } }
        for entry in entries {
            let name = Array(entry.name.utf8)
            let crc = entry.bytes.withUnsafeBytes { CRC32.checksum($0) }
            let offset = UInt32(output.count)
            u32(0x0403_4b50, into: &output)
            u16(20, into: &output); u16(0, into: &output); u16(0, into: &output); u16(0, into: &output); u16(0, into: &output)
            u32(crc, into: &output); u32(UInt32(entry.bytes.count), into: &output); u32(UInt32(entry.bytes.count), into: &output)
            u16(name.count, into: &output); u16(0, into: &output)
            output += name + entry.bytes

            u32(0x0201_4b50, into: &central)
            u16(20, into: &central); u16(20, into: &central); u16(0, into: &central); u16(0, into: &central)
            u16(0, into: &central); u16(0, into: &central)
            let size = zip64 ? 0xFFFF_FFFF : UInt32(entry.bytes.count)
            u32(crc, into: &central); u32(size, into: &central); u32(size, into: &central)
            u16(name.count, into: &central); u16(zip64 ? 28 : 0, into: &central); u16(0, into: &central); u16(0, into: &central); u16(0, into: &central)
            u32(0, into: &central); u32(zip64 ? 0xFFFF_FFFF : offset, into: &central)
            central += name
            if zip64 {
                u16(1, into: &central); u16(24, into: &central)
                for value in [UInt64(entry.bytes.count), UInt64(entry.bytes.count), UInt64(offset)] { u64(value, into: &central) }
            }
        }
        let directoryOffset = UInt32(output.count)
        output += central
        if zip64 {
            let record = UInt64(output.count)
            u32(0x0606_4b50, into: &output); u64(44, into: &output); u16(45, into: &output); u16(45, into: &output)
            u32(0, into: &output); u32(0, into: &output)
            u64(UInt64(entries.count), into: &output); u64(UInt64(entries.count), into: &output)
            u64(UInt64(central.count), into: &output); u64(UInt64(directoryOffset), into: &output)
            u32(0x0706_4b50, into: &output); u32(0, into: &output); u64(record, into: &output); u32(1, into: &output)
            u32(0x0605_4b50, into: &output)
            u16(0, into: &output); u16(0, into: &output); u16(0xFFFF, into: &output); u16(0xFFFF, into: &output)
            u32(0xFFFF_FFFF, into: &output); u32(0xFFFF_FFFF, into: &output); u16(0, into: &output)
            return Data(output)
        }
        u32(0x0605_4b50, into: &output)
        u16(0, into: &output); u16(0, into: &output); u16(entries.count, into: &output); u16(entries.count, into: &output)
        u32(UInt32(central.count), into: &output); u32(directoryOffset, into: &output); u16(0, into: &output)
        return Data(output)
    }

    /// The entries of a stored archive, each passed through `change`.
    static func rewritten(_ data: Data, _ change: (String, [UInt8]) throws -> [UInt8]) throws -> Data {
        let entries = try data.withUnsafeBytes { bytes in
            try ZipArchive(bytes: bytes, file: "fixture").entries.map { ($0.name, Array(bytes[$0.range])) }
        }
        return archive(try entries.map { ($0.0, try change($0.0, $0.1)) })
    }

    /// A torch-style archive under `archive/` holding `pickle` and the given storages.
    static func checkpoint(pickle: [UInt8], storages: [String: [UInt8]]) -> Data {
        var entries: [(name: String, bytes: [UInt8])] = [("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
        for (key, bytes) in storages.sorted(by: { $0.key < $1.key }) { entries.append(("archive/data/\(key)", bytes)) }
        entries.append(("archive/version", Array("3\n".utf8)))
        return archive(entries)
    }
}

/// Writes protocol-2 pickles opcode by opcode.
struct PickleBuilder {
    private(set) var bytes: [UInt8] = [0x80, 2]

    mutating func op(_ character: Character) { bytes.append(character.asciiValue!) }
    mutating func raw(_ values: [UInt8]) { bytes += values }
    mutating func global(_ module: String, _ name: String) { op("c"); bytes += Array("\(module)\n\(name)\n".utf8) }
    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        op("X"); bytes += withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init) + utf8
    }
    /// BININT when it fits 32 bits, else LONG1 of 8 bytes.
    mutating func int(_ value: Int) {
        if let small = Int32(exactly: value) {
            op("J"); bytes += withUnsafeBytes(of: small.littleEndian, Array.init)
        } else {
            raw([0x8A, 8]); bytes += withUnsafeBytes(of: Int64(value).littleEndian, Array.init)
        }
    }
    mutating func tuple(_ values: [Int]) { op("("); values.forEach { int($0) }; op("t") }

    /// The legacy format's sixth persistent id field: None or a view.
    enum LegacyView {
        case noView
        case view(key: String, offset: Int, size: Int)
    }

    /// `_rebuild_tensor_v2(storage, offset, shape, strides, False, OrderedDict())`; with
    /// `legacyView`, the storage's persistent id has the legacy format's sixth field.
    mutating func tensor(storageType: String = "FloatStorage", key: String, count: Int, offset: Int, shape: [Int], strides: [Int],
                         legacyView: LegacyView? = nil) {
        global("torch._utils", "_rebuild_tensor_v2")
        op("(")
        op("("); string("storage"); global("torch", storageType); string(key); string("cpu"); int(count)
        switch legacyView {
        case nil: break
        case .noView?: op("N")
        case .view(let viewKey, let viewOffset, let size)?: op("("); string(viewKey); int(viewOffset); int(size); op("t")
        }
        op("t")
        op("Q")
        int(offset); tuple(shape); tuple(strides); raw([0x89])
        global("collections", "OrderedDict"); op(")"); op("R")
        op("t"); op("R")
    }

    /// `{name: tensor, ...}` then STOP, with each tensor written by `body`.
    static func stateDict(_ entries: [(String, (inout PickleBuilder) -> Void)]) -> [UInt8] {
        var builder = PickleBuilder()
        builder.op("}"); builder.op("(")
        for (name, write) in entries { builder.string(name); write(&builder) }
        builder.op("u"); builder.op(".")
        return builder.bytes
    }
}
