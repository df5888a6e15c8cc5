import FileIO
import Foundation
import LSGErrors
import PyTorchCheckpoint
import SafeTensors

/// The weights of a model directory, in transformers' order of preference: `model.safetensors`,
/// else the shards named by `model.safetensors.index.json`, else PyTorch's `pytorch_model.bin`,
/// else the shards named by `pytorch_model.bin.index.json`. Safetensors data stays
/// memory-mapped; nothing is copied until asked for. A `.bin` is read through the restricted
/// unpickler (no code runs) and held as an in-memory safetensors image, so everything downstream
/// reads one format. Tensors go by the
/// names transformers loads them under (`StateDictRule.legacyNormNames`: TF-era `gamma`/`beta`
/// become `weight`/`bias`); `nameInFile` gives the stored name where it differs. Immutable, so
/// safe to share between threads.
public final class TensorStore: @unchecked Sendable {
    public let directory: URL
    /// The weight files, shard order (one file when not sharded).
    public let files: [SafeTensorsFile]
    /// The index, for a sharded checkpoint (`pytorch_model.bin.index.json` has the same shape).
    public let index: SafeTensorsIndex?
    /// All tensors under their loaded names, file by file, each file in data-offset order.
    public let tensors: [TensorInfo]
    private let locations: [String: Location]

    /// Where a tensor's bytes are: its file and the name it is stored under there.
    public struct Location: Sendable {
        public let file: SafeTensorsFile
        public let nameInFile: String
    }

    public init(directory: URL) throws {
        let stored: [TensorInfo]
        let manager = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        let indexURL = directory.appendingPathComponent(SafeTensorsIndex.defaultFileName)
        let binary = directory.appendingPathComponent(PyTorchCheckpointFile.defaultFileName)
        let binaryIndexURL = directory.appendingPathComponent(PyTorchShardedCheckpoint.indexFileName)
        // transformers' order of preference (`from_pretrained` on a directory).
        if manager.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(contentsOf: single)
            files = [file]
            index = nil
            stored = file.tensors
        } else if manager.fileExists(atPath: indexURL.path) {
            let sharded = try ShardedSafeTensors(indexURL: indexURL)
            files = sharded.shards
            index = sharded.index
            stored = sharded.tensors
        } else if manager.fileExists(atPath: binary.path) {
            let file = try PyTorchCheckpointFile(contentsOf: binary).safeTensors()
            files = [file]
            index = nil
            stored = file.tensors
        } else if manager.fileExists(atPath: binaryIndexURL.path) {
            let sharded = try PyTorchShardedCheckpoint(indexURL: binaryIndexURL)
            files = try sharded.shards.map { try $0.safeTensors() }
            index = sharded.index
            stored = files.flatMap(\.tensors)
        } else {
            let other = ["tf_model.h5", "flax_model.msgpack"]
                .filter { manager.fileExists(atPath: directory.appendingPathComponent($0).path) }
            let hint = other.isEmpty ? "" : " (\(other.joined(separator: ", ")) is not supported; convert it to safetensors first)"
            throw LSGError(.missingFile, file: directory.path, "no model.safetensors, \(PyTorchCheckpointFile.defaultFileName) or a shard index\(hint)")
        }
        var fileByTensor: [String: SafeTensorsFile] = [:]
        for file in files {
            for tensor in file.tensors { fileByTensor[tensor.name] = file }
        }
        // Loaded names in checkpoint order; a renamed tensor takes the place and the bytes of a
        // tensor that already had its new name, as the state dict assignment does.
        var loaded: [TensorInfo] = []
        var positions: [String: Int] = [:]
        var locations: [String: Location] = [:]
        for tensor in stored {
            let name = StateDictRule.modernName(tensor.name) ?? tensor.name
            let info = TensorInfo(name: name, dtype: tensor.dtype, shape: tensor.shape, dataOffsets: tensor.dataOffsets)
            if let position = positions[name] {
                // A plain name never replaces a renamed one: the renaming runs after the state dict is read.
                guard name != tensor.name || locations[name]?.nameInFile == name else { continue }
                loaded[position] = info
            } else {
                positions[name] = loaded.count
                loaded.append(info)
            }
            locations[name] = Location(file: fileByTensor[tensor.name]!, nameInFile: tensor.name)
        }
        self.directory = directory
        self.tensors = loaded
        self.locations = locations
    }

    public var isSharded: Bool { index != nil }

    /// Tensor names, file by file, each file in data-offset order.
    public var names: [String] { tensors.map(\.name) }

    public func contains(_ name: String) -> Bool { locations[name] != nil }

    public func info(_ name: String) -> TensorInfo? {
        guard let location = locations[name], let info = location.file.info(location.nameInFile) else { return nil }
        return TensorInfo(name: name, dtype: info.dtype, shape: info.shape, dataOffsets: info.dataOffsets)
    }

    /// Where the tensor loaded as `name` is stored.
    public func location(of name: String) -> Location? { locations[name] }

    /// The name the tensor loaded as `name` has in its file, when it differs (a TF-era name).
    public func nameInFile(_ name: String) -> String? {
        guard let stored = locations[name]?.nameInFile, stored != name else { return nil }
        return stored
    }

    /// The files of the checkpoint on disk, relative to `directory`: weight files, then the index.
    public var fileNames: [String] {
        let weights = files.map { URL(fileURLWithPath: $0.name).lastPathComponent }
        guard let index else { return weights }
        return weights + [URL(fileURLWithPath: index.name).lastPathComponent]
    }

    /// Whether two tensors hold the same dtype, shape and bytes (a tied weight saved twice).
    public func holdSameValues(_ first: String, _ second: String) -> Bool {
        guard let a = info(first), let b = info(second), a.dtype == b.dtype, a.shape == b.shape else { return false }
        return (try? withBytes(of: first) { left in
            try withBytes(of: second) { right in
                guard left.count == right.count, let l = left.baseAddress, let r = right.baseAddress else { return left.count == right.count }
                return l == r || memcmp(l, r, left.count) == 0
            }
        }) ?? false
    }

    private func located(_ name: String) throws -> Location {
        guard let location = locations[name] else {
            throw LSGError(.missingTensor, file: directory.path, "no tensor named '\(name)'")
        }
        return location
    }

    /// Calls `body` with the tensor's raw little-endian bytes (valid only during the call).
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let location = try located(name)
        return try location.file.withBytes(of: location.nameInFile, body)
    }

    /// Calls `body` with the tensor's bytes in bounded pieces, dropping each piece's mapped
    /// pages afterwards (see `SafeTensorsFile.forEachChunk`).
    public func forEachChunk(of name: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let location = try located(name)
        try location.file.forEachChunk(of: location.nameInFile, body)
    }

    /// Calls `body` with the tensor's values as Float in bounded pieces (see
    /// `SafeTensorsFile.forEachFloatChunk`).
    public func forEachFloatChunk(of name: String, _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        let location = try located(name)
        try location.file.forEachFloatChunk(of: location.nameInFile, body)
    }

    /// Drops the tensor's mapped pages from the resident set (they are read back when needed).
    public func releasePages(of name: String) throws {
        let location = try located(name)
        try location.file.releasePages(of: location.nameInFile)
    }

    /// The tensor's values widened (or, from F64, rounded) to Float.
    public func floats(_ name: String) throws -> [Float] {
        let location = try located(name)
        return try location.file.floats(location.nameInFile)
    }

    /// Rows `rows` (first dimension) of the tensor as Float; only those rows are read.
    public func floats(_ name: String, rows: Range<Int>) throws -> [Float] {
        let location = try located(name)
        return try location.file.floats(location.nameInFile, rows: rows)
    }

    public func int64s(_ name: String) throws -> [Int64] {
        let location = try located(name)
        return try location.file.int64s(location.nameInFile)
    }
}
