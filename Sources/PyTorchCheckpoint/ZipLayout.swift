import Foundation
import LSGErrors

/// torch's zip layout (torch 1.6 and later): a stored archive whose entries sit under one folder,
/// `<prefix>/data.pkl` (the state dict), `<prefix>/data/<key>` (one entry per storage),
/// `<prefix>/version` and `<prefix>/byteorder`. Every entry read is checked against its CRC-32.
struct ZipLayout: CheckpointLayout {
    /// Archive format versions torch 1.6 to 2.x write and read.
    static let supportedVersions = 1...10

    /// A zip archive begins with a local file header.
    static func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes.loadUnaligned(as: UInt32.self) == UInt32(0x0403_4b50).littleEndian
    }

    let stateDict: RestrictedUnpickler.Dict
    /// True when the `byteorder` entry says `big`.
    let isBigEndian: Bool
    private let bytes: UnsafeRawBufferPointer
    private let file: String
    private let archive: ZipArchive
    private let prefix: String

    init(_ bytes: UnsafeRawBufferPointer, file: String, limits: PyTorchCheckpointFile.Limits) throws(LSGError) {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }
        let archive = try ZipArchive(bytes: bytes, file: file)

        // Every entry sits under one top-level folder, named after the file when it was saved.
        let prefixes = Set(archive.entries.map { $0.name.split(separator: "/", maxSplits: 1).count == 2 ? String($0.name.split(separator: "/")[0]) : "" })
        guard prefixes.count == 1, let prefix = prefixes.first, !prefix.isEmpty else {
            throw fail(.malformed, "zip entries are not all under one top-level folder, as torch.save writes them")
        }
        if archive.entry("\(prefix)/constants.pkl") != nil || archive.entries.contains(where: { $0.name.hasPrefix("\(prefix)/code/") }) {
            throw fail(.unsupported, "is a TorchScript archive, not a state dict saved with torch.save")
        }
        func text(_ entryName: String) throws(LSGError) -> String? {
            guard let entry = archive.entry("\(prefix)/\(entryName)") else { return nil }
            guard entry.range.count <= 64, let value = String(validatingUTF8Bytes: try Self.checkedBytes(of: entry, in: bytes, file: file)) else {
                throw fail(.malformed, "archive entry '\(entry.name)' is not a short text")
            }
            return value.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        if let version = try text("version") {
            guard let number = Int(version), Self.supportedVersions.contains(number) else {
                throw fail(.unsupported, "archive format version '\(version)' is not supported (torch writes \(Self.supportedVersions))")
            }
        }
        switch try text("byteorder") {
        case nil, "little": isBigEndian = false
        case "big": isBigEndian = true
        case let other?: throw fail(.malformed, "archive byteorder '\(other)' is neither 'little' nor 'big'")
        }

        guard let pickleEntry = archive.entry("\(prefix)/data.pkl") else { throw fail(.malformed, "archive has no \(prefix)/data.pkl") }
        let pickle = try Self.checkedBytes(of: pickleEntry, in: bytes, file: file)
        let root = try RestrictedUnpickler.load(pickle, file: file, limits: limits.unpickler).value
        guard case .dict(let stateDict) = root else { throw fail(.malformed, "data.pkl holds a \(root.typeName), not a state dict") }
        self.stateDict = stateDict
        self.bytes = bytes
        self.file = file
        self.archive = archive
        self.prefix = prefix
    }

    /// Each storage is the entry `<prefix>/data/<key>`, exactly its elements' size.
    func storageRanges(
        of storages: [StateDict.StorageUse], verified: (Range<Int>) -> Void
    ) throws(LSGError) -> [String: Range<Int>] {
        var ranges: [String: Range<Int>] = [:]
        for (tensor, storage) in storages {
            guard ZipArchive.isSafeName(storage.key), !storage.key.contains("/") else {
                throw fail(.malformed, "tensor '\(tensor)' names storage '\(storage.key)', which leaves the archive's data folder")
            }
            guard let entry = archive.entry("\(prefix)/data/\(storage.key)") else {
                throw fail(.malformed, "tensor '\(tensor)' uses storage '\(storage.key)', which the archive lacks")
            }
            let dtype = storage.storageType.storageDType!
            guard let needed = dtype.byteCount(elements: storage.elementCount), needed == entry.range.count else {
                throw fail(.malformed, "storage '\(storage.key)' holds \(entry.range.count) bytes, not \(storage.elementCount) x \(dtype)")
            }
            _ = try Self.checkedBytes(of: entry, in: bytes, file: file)
            verified(entry.range)
            ranges[storage.key] = entry.range
        }
        return ranges
    }

    private func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }

    private static func checkedBytes(
        of entry: ZipArchive.Entry, in bytes: UnsafeRawBufferPointer, file: String
    ) throws(LSGError) -> UnsafeRawBufferPointer {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[entry.range])
        guard CRC32.checksum(slice) == entry.crc32 else {
            throw LSGError(.malformed, file: file, "zip entry '\(entry.name)' fails its CRC-32 check")
        }
        return slice
    }
}
