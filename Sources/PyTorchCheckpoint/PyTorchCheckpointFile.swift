import FileIO
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// A `torch.save` checkpoint (`pytorch_model.bin`) in torch's zip format (`ZipLayout`) or its
/// legacy format (`LegacyLayout`), told apart by their first bytes and read with a restricted
/// unpickler that only describes tensors and never runs code. The file is memory-mapped; a
/// contiguous little-endian tensor is read in place, anything else (a strided view, a big-endian
/// archive) is copied into contiguous bytes when asked for. Immutable after init, so safe to
/// share between threads.
public final class PyTorchCheckpointFile: @unchecked Sendable {
    public static let defaultFileName = "pytorch_model.bin"

    /// Path or given name, used in errors.
    public let name: String
    /// In state-dict order.
    public let tensors: [PyTorchTensor]
    /// True when the zip archive's `byteorder` entry says `big` (legacy files saved on a big-endian
    /// machine are refused).
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
            throw LSGError(error.kind, file: url.path, error.problem)
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
            Result { () throws(LSGError) -> Contents in
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
        /// Largest pickle accepted: `data.pkl`, or any of the legacy format's pickles.
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
            throw LSGError(.missingTensor, file: name, "no tensor named '\(tensorName)'")
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

        let image = TemporaryName.file(in: temporaryDirectory, stem: "lsg-convert", extension: "safetensors")
        let descriptor = open(image.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw LSGError(.io, file: name, "cannot create \(image.path) (its safetensors image): \(String(cString: strerror(errno)))")
        }
        unlink(image.path)
        defer { close(descriptor) }
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            do {
                try RegularFile.write(bytes, to: descriptor, file: image.path)
            } catch {
                throw LSGError(error.kind, file: name, "its safetensors image \(error.description)")
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
        } catch let error as LSGError {
            throw LSGError(error.kind, file: name, error.problem)
        }
    }
}

/// What a checkpoint holds, validated.
private struct Contents {
    let tensors: [PyTorchTensor]
    let storageRanges: [String: Range<Int>]
    let isBigEndian: Bool

    init(
        _ bytes: UnsafeRawBufferPointer, file: String, limits: PyTorchCheckpointFile.Limits,
        verified: (Range<Int>) -> Void
    ) throws(LSGError) {
        let layout: any CheckpointLayout
        if ZipLayout.matches(bytes) {
            layout = try ZipLayout(bytes, file: file, limits: limits)
        } else if LegacyLayout.matches(bytes) {
            layout = try LegacyLayout(bytes, file: file, limits: limits)
        } else {
            throw LSGError(.malformed, file: file, "not a PyTorch checkpoint (neither a torch zip archive nor a legacy pickle)")
        }
        let stateDict = try StateDict(layout.stateDict, file: file, limits: limits)
        tensors = stateDict.tensors
        storageRanges = try layout.storageRanges(of: stateDict.storages, verified: verified)
        isBigEndian = layout.isBigEndian
    }
}

/// Where a checkpoint format keeps its state dict and its storages' bytes.
protocol CheckpointLayout {
    var stateDict: RestrictedUnpickler.Dict { get }
    var isBigEndian: Bool { get }

    /// Where each storage's bytes are in the file, checked to be exactly what the state dict
    /// declares. `verified` gets each storage's range once its bytes have been read, so their
    /// pages can be dropped.
    func storageRanges(of storages: [StateDict.StorageUse], verified: (Range<Int>) -> Void) throws(LSGError) -> [String: Range<Int>]
}

extension PyTorchCheckpointFile.Limits {
    var unpickler: RestrictedUnpickler.Limits {
        var limits = RestrictedUnpickler.Limits()
        limits.maxPickleBytes = maxPickleBytes
        limits.maxStackDepth = maxStackDepth
        limits.maxMemoEntries = maxMemoEntries
        return limits
    }
}
