import Foundation
import LSGErrors

/// The entries of a zip archive whose members are stored uncompressed, as `torch.save` writes
/// them. Read in place: an entry is a byte range of the archive. Zip64 sizes and offsets are
/// understood; compressed, encrypted or split archives, entries outside the archive bounds,
/// overlapping entries, duplicate names and names that climb out of the archive are refused.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Where the entry's bytes are in the archive.
        let range: Range<Int>
        let crc32: UInt32
    }

    /// Entries in central-directory order.
    let entries: [Entry]
    private let indexByName: [String: Int]

    func entry(_ name: String) -> Entry? { indexByName[name].map { entries[$0] } }

    static let maxEntries = 1 << 20

    init(bytes: UnsafeRawBufferPointer, file: String) throws(LSGError) {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }
        let reader = ByteReader(bytes: bytes)

        // End of central directory: 22 bytes plus a comment of at most 65535 bytes.
        let endSignature: UInt32 = 0x0605_4b50
        var endOffset: Int?
        var position = bytes.count - 22
        while position >= max(0, bytes.count - 22 - 0xFFFF) {
            if reader.u32(at: position) == endSignature { endOffset = position; break }
            position -= 1
        }
        guard let endOffset else { throw fail(.malformed, "not a zip archive (no end-of-central-directory record)") }
        let disk = reader.u16(at: endOffset + 4)!, directoryDisk = reader.u16(at: endOffset + 6)!
        var entryCount = UInt64(reader.u16(at: endOffset + 10)!)
        var directorySize = UInt64(reader.u32(at: endOffset + 12)!)
        var directoryOffset = UInt64(reader.u32(at: endOffset + 16)!)
        guard disk == 0, directoryDisk == 0 else { throw fail(.unsupported, "zip archive spans several disks") }

        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: the locator sits just before the classic record and points at the zip64 record.
            let locator = endOffset - 20
            guard locator >= 0, reader.u32(at: locator) == 0x0706_4b50, let recordOffset = reader.u64(at: locator + 8),
                  let record = Int(exactly: recordOffset), reader.u32(at: record) == 0x0606_4b50,
                  let count = reader.u64(at: record + 32), let size = reader.u64(at: record + 40),
                  let offset = reader.u64(at: record + 48)
            else { throw fail(.malformed, "zip64 end-of-central-directory record is missing or truncated") }
            entryCount = count
            directorySize = size
            directoryOffset = offset
        }
        guard entryCount <= UInt64(Self.maxEntries) else { throw fail(.limitExceeded, "zip archive claims \(entryCount) entries (limit \(Self.maxEntries))") }
        guard let directoryStart = Int(exactly: directoryOffset), let directoryLength = Int(exactly: directorySize),
              directoryStart.addingReportingOverflow(directoryLength).partialValue <= endOffset,
              !directoryStart.addingReportingOverflow(directoryLength).overflow
        else { throw fail(.malformed, "zip central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the archive") }

        var entries: [Entry] = []
        var indexByName: [String: Int] = [:]
        var cursor = directoryStart
        let directoryEnd = directoryStart + directoryLength
        for number in 0..<Int(entryCount) {
            guard cursor + 46 <= directoryEnd, reader.u32(at: cursor) == 0x0201_4b50 else {
                throw fail(.malformed, "zip central directory entry \(number) is truncated or corrupt")
            }
            let flags = reader.u16(at: cursor + 8)!
            let method = reader.u16(at: cursor + 10)!
            let crc = reader.u32(at: cursor + 16)!
            var compressedSize = UInt64(reader.u32(at: cursor + 20)!)
            var size = UInt64(reader.u32(at: cursor + 24)!)
            let nameLength = Int(reader.u16(at: cursor + 28)!)
            let extraLength = Int(reader.u16(at: cursor + 30)!)
            let commentLength = Int(reader.u16(at: cursor + 32)!)
            let entryDisk = reader.u16(at: cursor + 34)!
            var localOffset = UInt64(reader.u32(at: cursor + 42)!)
            let nameStart = cursor + 46
            let extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= directoryEnd else { throw fail(.malformed, "zip central directory entry \(number) runs past the directory") }
            guard let name = String(validatingUTF8Bytes: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<extraStart])) else {
                throw fail(.malformed, "zip entry \(number) has a name that is not valid UTF-8")
            }
            guard Self.isSafeName(name) else { throw fail(.malformed, "zip entry name '\(name)' leaves the archive") }

            // Zip64 extra field: the 64-bit values appear only for fields saturated above, in order.
            var extra = extraStart
            while extra + 4 <= extraStart + extraLength {
                let tag = reader.u16(at: extra)!, length = Int(reader.u16(at: extra + 2)!)
                guard extra + 4 + length <= extraStart + extraLength else { throw fail(.malformed, "zip entry '\(name)' has a truncated extra field") }
                if tag == 0x0001 {
                    var field = extra + 4
                    func take() throws(LSGError) -> UInt64 {
                        guard field + 8 <= extra + 4 + length, let value = reader.u64(at: field) else {
                            throw fail(.malformed, "zip entry '\(name)' has a truncated zip64 field")
                        }
                        field += 8
                        return value
                    }
                    if size == 0xFFFF_FFFF { size = try take() }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = try take() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try take() }
                }
                extra += 4 + length
            }

            guard entryDisk == 0 || entryDisk == 0xFFFF else { throw fail(.unsupported, "zip entry '\(name)' is on another disk") }
            guard flags & 0x1 == 0 else { throw fail(.unsupported, "zip entry '\(name)' is encrypted") }
            guard method == 0 else {
                throw fail(.unsupported, "zip entry '\(name)' is compressed (method \(method)); torch.save stores entries uncompressed, re-save the checkpoint with torch.save")
            }
            guard compressedSize == size else {
                throw fail(.malformed, "zip entry '\(name)' is stored but its sizes differ (\(compressedSize) stored, \(size) declared)")
            }
            guard let local = Int(exactly: localOffset), local <= directoryStart - 30, reader.u32(at: local) == 0x0403_4b50 else {
                throw fail(.malformed, "zip entry '\(name)' has no local header at offset \(localOffset)")
            }
            let dataStart = local + 30 + Int(reader.u16(at: local + 26)!) + Int(reader.u16(at: local + 28)!)
            guard let length = Int(exactly: size), dataStart <= directoryStart, length <= directoryStart - dataStart else {
                throw fail(.malformed, "zip entry '\(name)' (\(size) bytes at offset \(localOffset)) runs past the archive data")
            }
            guard indexByName[name] == nil else { throw fail(.malformed, "zip entry '\(name)' appears twice") }
            indexByName[name] = entries.count
            entries.append(Entry(name: name, range: dataStart..<(dataStart + length), crc32: crc))
            cursor = next
        }
        let ordered = entries.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where earlier.range.upperBound > later.range.lowerBound {
            throw fail(.malformed, "zip entries '\(earlier.name)' and '\(later.name)' overlap")
        }
        self.entries = entries
        self.indexByName = indexByName
    }

    /// A relative path of plain components: no leading `/`, no `\`, no NUL, no `.` or `..`
    /// component, no empty component.
    static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.contains("\\"), !name.contains("\0") else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}

/// Bounds-checked little-endian loads; nil past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    private func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= bytes.count - MemoryLayout<T>.size else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func u16(at offset: Int) -> UInt16? { load(UInt16.self, at: offset) }
    func u32(at offset: Int) -> UInt32? { load(UInt32.self, at: offset) }
    func u64(at offset: Int) -> UInt64? { load(UInt64.self, at: offset) }
}

extension String {
    init?(validatingUTF8Bytes bytes: UnsafeRawBufferPointer) {
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        self = string
    }
}

/// CRC-32 (IEEE 802.3, as zip uses), slicing by 8: eight table lookups per 8 bytes instead of
/// one per byte, since opening a checkpoint checks every byte of its weights.
enum CRC32 {
    /// `tables[0]` is the classic byte table; `tables[k][i]` advances `tables[k - 1][i]` by one
    /// more zero byte.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
            tables[index] = value
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return tables
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { t in
            var offset = 0
            while offset + 8 <= bytes.count {
                let low = crc ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                offset += 8
            }
            while offset < bytes.count {
                crc = t[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
        }
        return ~crc
    }
}
