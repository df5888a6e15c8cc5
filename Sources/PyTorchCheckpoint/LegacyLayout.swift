import LSGErrors
import SafeTensors

/// torch's legacy layout, which `torch.save` wrote before torch 1.6 and still writes with
/// `_use_new_zipfile_serialization=False`: pickles one after another (the magic number, the
/// format version 1001, the saving machine's sys info, the state dict, the list of storage keys),
/// then each listed storage as an 8-byte little-endian element count and its elements. Only a
/// pickle's `STOP` says where it ends, so each is read to find the next. The storages follow one
/// another in list order, so they cannot overlap; none may be listed twice, left unused by the
/// state dict or missing from the list, and the last one ends the file.
struct LegacyLayout: CheckpointLayout {
    /// 0x1950a86a20f9469cfc6c in `LONG1`'s little-endian two's complement.
    static let magicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let formatVersion = 1001

    /// A pickle begins with `PROTO` (`torch.save` writes protocol 2 unless told otherwise); the
    /// magic number that must follow is checked by `init`.
    static func matches(_ bytes: UnsafeRawBufferPointer) -> Bool { bytes.first == 0x80 }

    let stateDict: RestrictedUnpickler.Dict
    /// Always false: files saved on a big-endian machine are refused (see `init`).
    let isBigEndian = false
    private let bytes: UnsafeRawBufferPointer
    private let file: String
    /// In the order their storages follow the pickles.
    private let storageKeys: [String]
    private let storagesStart: Int

    init(_ bytes: UnsafeRawBufferPointer, file: String, limits: PyTorchCheckpointFile.Limits) throws(LSGError) {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }
        var position = 0
        func nextPickle(_ persistentIDs: RestrictedUnpickler.PersistentIDs = .zip) throws(LSGError) -> RestrictedUnpickler.Value {
            let (value, end) = try RestrictedUnpickler.load(bytes, from: position, file: file, limits: limits.unpickler, persistentIDs: persistentIDs)
            position = end
            return value
        }

        guard case .wideInt(let magic) = try nextPickle(), magic == Self.magicNumber else {
            throw fail(.malformed, "begins with a pickle that is not torch's magic number 0x1950a86a20f9469cfc6c, so it is not a torch.save file")
        }
        let version = try nextPickle()
        guard case .int(Self.formatVersion) = version else {
            let found = if case .int(let number) = version { "\(number)" } else { "a \(version.typeName)" }
            throw fail(.unsupported, "legacy torch.save format version is \(found), not \(Self.formatVersion)")
        }
        let sysInfoStart = position
        guard case .dict(let sysInfo) = try nextPickle() else { throw fail(.malformed, "the legacy sys info at byte \(sysInfoStart) is not a dict") }
        switch sysInfo["little_endian"] {
        case .bool(true)?:
            break
        case .bool(false)?:
            // torch byte-swaps storages to little-endian when saving on a big-endian machine, but
            // its older versions wrote the element counts in the machine's order: refused rather
            // than guessed.
            throw fail(.unsupported, "was saved on a big-endian machine (legacy sys info little_endian=False), which is not supported; re-save it with torch.save from torch 1.6 or later")
        default:
            throw fail(.malformed, "the legacy sys info at byte \(sysInfoStart) has no boolean little_endian entry")
        }

        let stateDictStart = position
        let root = try nextPickle(.legacy)
        guard case .dict(let stateDict) = root else { throw fail(.malformed, "the pickle at byte \(stateDictStart) holds a \(root.typeName), not a state dict") }
        let keysStart = position
        guard case .list(let keyList) = try nextPickle() else { throw fail(.malformed, "the storage key list at byte \(keysStart) is not a list") }
        let storageKeys = keyList.items.compactMap { if case .string(let key) = $0 { key } else { nil } }
        guard storageKeys.count == keyList.items.count else { throw fail(.malformed, "the storage key list at byte \(keysStart) holds a value that is not a string") }

        self.stateDict = stateDict
        self.bytes = bytes
        self.file = file
        self.storageKeys = storageKeys
        storagesStart = position
    }

    /// The storages' bytes are not read here, so `verified` is never called.
    func storageRanges(of storages: [StateDict.StorageUse], verified: (Range<Int>) -> Void) throws(LSGError) -> [String: Range<Int>] {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }
        let storageByKey = Dictionary(uniqueKeysWithValues: storages.map { ($0.storage.key, $0.storage) })
        let reader = ByteReader(bytes: bytes)
        var ranges: [String: Range<Int>] = [:]
        var position = storagesStart
        for key in storageKeys {
            guard ranges[key] == nil else { throw fail(.malformed, "storage '\(key)' is listed twice in the storage key list") }
            guard let storage = storageByKey[key] else { throw fail(.malformed, "storage '\(key)' is in the storage key list but no tensor uses it") }
            guard let count = reader.u64(at: position) else {
                throw fail(.malformed, "truncated: the element count of storage '\(key)' at byte \(position) runs past the end of the file (\(bytes.count) bytes)")
            }
            guard count == UInt64(storage.elementCount) else {
                throw fail(.malformed, "storage '\(key)' holds \(count) elements (count at byte \(position)), but the pickle declares \(storage.elementCount)")
            }
            let dtype = storage.storageType.storageDType!
            guard let size = dtype.byteCount(elements: storage.elementCount) else {
                throw fail(.malformed, "storage '\(key)' of \(count) x \(dtype) has a byte size that overflows")
            }
            let start = position + 8
            guard size <= bytes.count - start else {
                throw fail(.malformed, "storage '\(key)' (\(count) x \(dtype) = \(size) bytes from byte \(start)) runs past the end of the file (\(bytes.count) bytes)")
            }
            ranges[key] = start..<(start + size)
            position = start + size
        }
        if let missing = storages.first(where: { ranges[$0.storage.key] == nil }) {
            throw fail(.malformed, "tensor '\(missing.tensor)' uses storage '\(missing.storage.key)', which the storage key list lacks")
        }
        guard position == bytes.count else { throw fail(.malformed, "\(bytes.count - position) bytes follow the last storage, which ends at byte \(position)") }
        return ranges
    }
}
