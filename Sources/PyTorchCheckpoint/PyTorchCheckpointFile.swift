import Foundation
import SafeTensors

/// A `torch.save` checkpoint in the zip format (`pytorch_model.bin`): the archive
/// `<prefix>/data.pkl`, `<prefix>/data/<key>`, `<prefix>/version`, `<prefix>/byteorder`, read
/// with a restricted unpickler that only describes tensors and never runs code. The file is
/// memory-mapped; a contiguous little-endian tensor is read in place, anything else (a strided
/// view, a big-endian archive) is copied into contiguous bytes when asked for. Immutable after
/// init, so safe to share between threads.
public final class PyTorchCheckpointFile: @unchecked Sendable {
    public static let defaultFileName = "pytorch_model.bin"
    /// Archive format versions torch 1.6 to 2.x write and read.
    static let supportedVersions = 1...10

    /// Path or given name, used in errors.
    public let name: String
    /// In state-dict order.
    public let tensors: [PyTorchTensor]
    /// True when the archive's `byteorder` entry says `big`.
    public let isBigEndian: Bool
    private let storage: FileBytes
    private let storageRanges: [String: Range<Int>]
    private let indexByName: [String: Int]

    /// Maps the file (only a regular file: a FIFO or a device would block or never end).
    public convenience init(contentsOf url: URL, limits: Limits = Limits()) throws {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: url.path)
        } catch {
            throw PyTorchCheckpointError(file: url.path, problem: error.problem)
        }
        try self.init(storage: .mapped(mapped), name: url.path, limits: limits)
    }

    /// Reads a checkpoint image already in memory.
    public convenience init(data: Data, name: String, limits: Limits = Limits()) throws {
        try self.init(storage: .inMemory(data), name: name, limits: limits)
    }

    private init(storage: FileBytes, name: String, limits: Limits) throws {
        self.name = name
        self.storage = storage
        let parsed = storage.withBytes { bytes in
            Result { () throws(PyTorchCheckpointError) -> Contents in
                // Each storage's pages are dropped once its CRC is checked: opening reads every
                // byte, and memory should stay near one storage whatever the file's size.
                try Contents(bytes, file: name, limits: limits, verified: storage.release)
            }
        }
        let contents = try parsed.get()
        tensors = contents.tensors
        storageRanges = contents.storageRanges
        isBigEndian = contents.isBigEndian
        indexByName = Dictionary(uniqueKeysWithValues: contents.tensors.enumerated().map { ($1.name, $0) })
    }

    public struct Limits: Sendable {
        /// Largest `data.pkl` accepted.
        public var maxPickleBytes = 256 << 20
        public var maxStackDepth = 1 << 20
        public var maxMemoEntries = 1 << 20
        public var maxTensors = 1 << 20
        public init() {}
    }

    public var names: [String] { tensors.map(\.name) }

    public func info(_ name: String) -> PyTorchTensor? { indexByName[name].map { tensors[$0] } }

    /// Calls `body` with the tensor's contiguous little-endian bytes (valid only during the call):
    /// a slice of the mapped file when the tensor is contiguous, else a fresh copy.
    public func withBytes<R>(of tensorName: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let tensor = info(tensorName) else {
            throw PyTorchCheckpointError(file: name, problem: "no tensor named '\(tensorName)'")
        }
        return try withBytes(of: tensor, body)
    }

    func withBytes<R>(of tensor: PyTorchTensor, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let range = storageRanges[tensor.storageKey]!
        let elementSize = tensor.dtype.bitWidth / 8
        if tensor.elementCount == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try storage.withBytes { file in
            let storageBytes = UnsafeRawBufferPointer(rebasing: file[range])
            if tensor.isContiguous && (!isBigEndian || elementSize == 1) {
                let start = tensor.storageOffset * elementSize
                return try body(UnsafeRawBufferPointer(rebasing: storageBytes[start..<(start + tensor.byteCount)]))
            }
            var copy = [UInt8](repeating: 0, count: tensor.byteCount)
            copy.withUnsafeMutableBytes { Self.gather(tensor, from: storageBytes, into: $0, swapBytes: isBigEndian) }
            return try copy.withUnsafeBytes(body)
        }
    }

    /// Copies the tensor's elements in row-major order, byte-swapping each when asked.
    private static func gather(_ tensor: PyTorchTensor, from storage: UnsafeRawBufferPointer,
                               into destination: UnsafeMutableRawBufferPointer, swapBytes: Bool) {
        let elementSize = tensor.dtype.bitWidth / 8
        var index = [Int](repeating: 0, count: tensor.shape.count)
        var source = tensor.storageOffset
        for element in 0..<tensor.elementCount {
            let from = source * elementSize, to = element * elementSize
            for byte in 0..<elementSize {
                destination[to + byte] = storage[from + (swapBytes ? elementSize - 1 - byte : byte)]
            }
            // Odometer step over the dimensions, last one fastest.
            var dimension = tensor.shape.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                source += tensor.strides[dimension]
                if index[dimension] < tensor.shape[dimension] { break }
                source -= tensor.strides[dimension] * index[dimension]
                index[dimension] = 0
                dimension -= 1
            }
        }
    }

    /// Drops the mapped pages of the tensor's storage from the resident set (they come back from
    /// the page cache when read again). Does nothing for an in-memory image.
    func releasePages(of tensor: PyTorchTensor) {
        if let range = storageRanges[tensor.storageKey] { storage.release(range) }
    }

    /// The checkpoint as a safetensors file: every tensor contiguous and little-endian, packed in
    /// state-dict order, tied tensors each with their own copy. This is how the rest of the tool
    /// reads a `.bin`: one reader for both formats downstream. The image is written tensor by
    /// tensor to a file in `temporaryDirectory`, unlinked as soon as it is created (nothing is
    /// left behind, even by a killed process) and then mapped, so memory stays near one tensor
    /// whatever the checkpoint's size; errors still name this checkpoint.
    public func safeTensors(temporaryDirectory: URL = FileManager.default.temporaryDirectory) throws -> SafeTensorsFile {
        var entries = JSONObject()
        var offset = 0
        for tensor in tensors {
            entries[tensor.name] = [
                "dtype": .string(tensor.dtype.rawValue),
                "shape": .array(tensor.shape.map { .int($0) }),
                "data_offsets": [.int(offset), .int(offset + tensor.byteCount)],
            ]
            offset += tensor.byteCount
        }
        var header = Array(JSONValue.object(entries).compactString().utf8)
        header += Array(repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        let image = temporaryDirectory.appendingPathComponent(
            "lsg-convert-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36)).safetensors")
        let descriptor = open(image.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw PyTorchCheckpointError(
                file: name, problem: "cannot create \(image.path) (its safetensors image): \(String(cString: strerror(errno)))")
        }
        unlink(image.path)
        defer { close(descriptor) }
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            do {
                try RegularFile.write(bytes, to: descriptor, file: image.path)
            } catch {
                throw PyTorchCheckpointError(file: name, problem: "its safetensors image \(error.description)")
            }
        }
        try withUnsafeBytes(of: UInt64(header.count).littleEndian) { try write($0) }
        try header.withUnsafeBytes { try write($0) }
        for tensor in tensors {
            try withBytes(of: tensor) { try write($0) }
            releasePages(of: tensor)
        }
        do {
            return try SafeTensorsFile(mapped: MappedFile(descriptor: descriptor, name: image.path), name: name)
        } catch let error as SafeTensorsError {
            throw PyTorchCheckpointError(file: name, problem: error.problem)
        }
    }
}

/// What a checkpoint archive holds, validated.
private struct Contents {
    var tensors: [PyTorchTensor] = []
    var storageRanges: [String: Range<Int>] = [:]
    var isBigEndian = false

    init(
        _ bytes: UnsafeRawBufferPointer, file: String, limits: PyTorchCheckpointFile.Limits,
        verified: (Range<Int>) -> Void
    ) throws(PyTorchCheckpointError) {
        func fail(_ problem: String) -> PyTorchCheckpointError { PyTorchCheckpointError(file: file, problem: problem) }
        if bytes.count >= 2, bytes[0] == 0x80, bytes[1] <= 5 {
            throw fail("is a bare pickle (torch's legacy pre-1.6 format), which is not supported; re-save it with torch.save from torch 1.6 or later")
        }
        guard bytes.count >= 4, bytes.loadUnaligned(as: UInt32.self) == UInt32(0x0403_4b50).littleEndian else {
            throw fail("not a PyTorch checkpoint (neither a torch zip archive nor a legacy pickle)")
        }
        let archive = try ZipArchive(bytes: bytes, file: file)

        // Every entry sits under one top-level folder, named after the file when it was saved.
        let prefixes = Set(archive.entries.map { $0.name.split(separator: "/", maxSplits: 1).count == 2 ? String($0.name.split(separator: "/")[0]) : "" })
        guard prefixes.count == 1, let prefix = prefixes.first, !prefix.isEmpty else {
            throw fail("zip entries are not all under one top-level folder, as torch.save writes them")
        }
        if archive.entry("\(prefix)/constants.pkl") != nil || archive.entries.contains(where: { $0.name.hasPrefix("\(prefix)/code/") }) {
            throw fail("is a TorchScript archive, not a state dict saved with torch.save")
        }
        func entryBytes(_ entry: ZipArchive.Entry) throws(PyTorchCheckpointError) -> UnsafeRawBufferPointer {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[entry.range])
            guard CRC32.checksum(slice) == entry.crc32 else { throw fail("zip entry '\(entry.name)' fails its CRC-32 check") }
            return slice
        }
        func text(_ entryName: String) throws(PyTorchCheckpointError) -> String? {
            guard let entry = archive.entry("\(prefix)/\(entryName)") else { return nil }
            guard entry.range.count <= 64, let value = String(validatingUTF8Bytes: try entryBytes(entry)) else {
                throw fail("archive entry '\(entry.name)' is not a short text")
            }
            return value.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        if let version = try text("version") {
            guard let number = Int(version), PyTorchCheckpointFile.supportedVersions.contains(number) else {
                throw fail("archive format version '\(version)' is not supported (torch writes \(PyTorchCheckpointFile.supportedVersions))")
            }
        }
        switch try text("byteorder") {
        case nil, "little": isBigEndian = false
        case "big": isBigEndian = true
        case let other?: throw fail("archive byteorder '\(other)' is neither 'little' nor 'big'")
        }

        guard let pickleEntry = archive.entry("\(prefix)/data.pkl") else { throw fail("archive has no \(prefix)/data.pkl") }
        var unpicklerLimits = RestrictedUnpickler.Limits()
        unpicklerLimits.maxPickleBytes = limits.maxPickleBytes
        unpicklerLimits.maxStackDepth = limits.maxStackDepth
        unpicklerLimits.maxMemoEntries = limits.maxMemoEntries
        let root = try RestrictedUnpickler.load(try entryBytes(pickleEntry), file: file, limits: unpicklerLimits).value
        guard case .dict(let stateDict) = root else { throw fail("data.pkl holds a \(root.typeName), not a state dict") }
        guard stateDict.entries.count <= limits.maxTensors else {
            throw fail("state dict has \(stateDict.entries.count) entries (limit \(limits.maxTensors))")
        }

        var storages: [String: RestrictedUnpickler.StorageReference] = [:]
        for (name, value) in stateDict.entries {
            guard case .tensor(let record) = value else { throw fail("state dict entry '\(name)' is a \(value.typeName), not a tensor") }
            let storage = record.storage
            if let known = storages[storage.key] {
                guard known == storage else {
                    throw fail("storage '\(storage.key)' is used as \(known.storageType.qualifiedName) of \(known.elementCount) and as \(storage.storageType.qualifiedName) of \(storage.elementCount)")
                }
            } else {
                guard ZipArchive.isSafeName(storage.key), !storage.key.contains("/") else {
                    throw fail("tensor '\(name)' names storage '\(storage.key)', which leaves the archive's data folder")
                }
                guard let entry = archive.entry("\(prefix)/data/\(storage.key)") else {
                    throw fail("tensor '\(name)' uses storage '\(storage.key)', which the archive lacks")
                }
                let dtype = storage.storageType.storageDType!
                guard let needed = dtype.byteCount(elements: storage.elementCount), needed == entry.range.count else {
                    throw fail("storage '\(storage.key)' holds \(entry.range.count) bytes, not \(storage.elementCount) x \(dtype)")
                }
                _ = try entryBytes(entry)
                verified(entry.range)
                storages[storage.key] = storage
                storageRanges[storage.key] = entry.range
            }
            tensors.append(try Self.tensor(name, record, fail: fail))
        }
    }

    /// Checks the view against its storage with overflow-checked arithmetic.
    private static func tensor(_ name: String, _ record: RestrictedUnpickler.TensorRecord,
                               fail: (String) -> PyTorchCheckpointError) throws(PyTorchCheckpointError) -> PyTorchTensor {
        let shape = record.shape, strides = record.strides
        let dtype = record.storage.storageType.storageDType!
        let describe = "tensor '\(name)' (shape \(shape), strides \(strides), offset \(record.storageOffset))"
        guard shape.count == strides.count else { throw fail("\(describe) has \(shape.count) dimensions but \(strides.count) strides") }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), record.storageOffset >= 0 else {
            throw fail("\(describe) has a negative size, stride or offset")
        }
        var elementCount = 1
        var lastIndex = record.storageOffset
        for (size, stride) in zip(shape, strides) {
            let (count, countOverflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !countOverflow else { throw fail("\(describe) has more elements than a 64-bit count holds") }
            elementCount = count
            if size > 0 {
                let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, sumOverflow) = lastIndex.addingReportingOverflow(step)
                guard !stepOverflow, !sumOverflow else { throw fail("\(describe) reaches past any storage") }
                lastIndex = sum
            }
        }
        guard let byteCount = dtype.byteCount(elements: elementCount) else { throw fail("\(describe) has a byte size that overflows") }
        if elementCount > 0, lastIndex >= record.storage.elementCount {
            throw fail("\(describe) reaches element \(lastIndex) of storage '\(record.storage.key)', which holds \(record.storage.elementCount)")
        }
        return PyTorchTensor(name: name, dtype: dtype, shape: shape, strides: strides, storageKey: record.storage.key,
                             storageOffset: record.storageOffset, elementCount: elementCount, byteCount: byteCount)
    }
}
