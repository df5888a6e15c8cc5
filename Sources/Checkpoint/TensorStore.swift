import Foundation
import PyTorchCheckpoint
import SafeTensors

/// The weights of a model directory: `model.safetensors`, or the shards named by
/// `model.safetensors.index.json`, or else PyTorch's `pytorch_model.bin` or the shards named by
/// `pytorch_model.bin.index.json`. Safetensors data stays memory-mapped; nothing is copied until
/// asked for. A `.bin` is read through the restricted unpickler (no code runs) and held as an
/// in-memory safetensors image, so everything downstream reads one format. Immutable, so safe
/// to share between threads.
public final class TensorStore: @unchecked Sendable {
    public let directory: URL
    /// The weight files, shard order (one file when not sharded).
    public let files: [SafeTensorsFile]
    /// The index, for a sharded checkpoint (`pytorch_model.bin.index.json` has the same shape).
    public let index: SafeTensorsIndex?
    /// All tensors, file by file, each file in data-offset order.
    public let tensors: [TensorInfo]
    private let fileByTensor: [String: SafeTensorsFile]

    public init(directory: URL) throws {
        let manager = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        let indexURL = directory.appendingPathComponent(SafeTensorsIndex.defaultFileName)
        let binary = directory.appendingPathComponent(PyTorchCheckpointFile.defaultFileName)
        let binaryIndexURL = directory.appendingPathComponent(PyTorchShardedCheckpoint.indexFileName)
        do {
            if manager.fileExists(atPath: indexURL.path) {
                let sharded = try ShardedSafeTensors(indexURL: indexURL)
                files = sharded.shards
                index = sharded.index
                tensors = sharded.tensors
            } else if manager.fileExists(atPath: single.path) {
                let file = try SafeTensorsFile(contentsOf: single)
                files = [file]
                index = nil
                tensors = file.tensors
            } else if manager.fileExists(atPath: binaryIndexURL.path) {
                let sharded = try PyTorchShardedCheckpoint(indexURL: binaryIndexURL)
                files = try sharded.shards.map { try $0.safeTensors() }
                index = sharded.index
                tensors = files.flatMap(\.tensors)
            } else if manager.fileExists(atPath: binary.path) {
                let file = try PyTorchCheckpointFile(contentsOf: binary).safeTensors()
                files = [file]
                index = nil
                tensors = file.tensors
            } else {
                let other = ["tf_model.h5", "flax_model.msgpack"]
                    .filter { manager.fileExists(atPath: directory.appendingPathComponent($0).path) }
                let hint = other.isEmpty ? "" : " (\(other.joined(separator: ", ")) is not supported; convert it to safetensors first)"
                throw CheckpointError(directory.path, "no model.safetensors, \(PyTorchCheckpointFile.defaultFileName) or a shard index\(hint)")
            }
        } catch let error as SafeTensorsError {
            throw CheckpointError(error.file, error.problem)
        } catch let error as PyTorchCheckpointError {
            throw CheckpointError(error.file, error.problem)
        }
        var fileByTensor: [String: SafeTensorsFile] = [:]
        for file in files {
            for tensor in file.tensors { fileByTensor[tensor.name] = file }
        }
        self.directory = directory
        self.fileByTensor = fileByTensor
    }

    public var isSharded: Bool { index != nil }

    /// Tensor names, file by file, each file in data-offset order.
    public var names: [String] { tensors.map(\.name) }

    public func contains(_ name: String) -> Bool { fileByTensor[name] != nil }

    public func info(_ name: String) -> TensorInfo? { fileByTensor[name]?.info(name) }

    /// The file that holds `name`.
    public func file(containing name: String) -> SafeTensorsFile? { fileByTensor[name] }

    /// The files of the checkpoint on disk, relative to `directory`: weight files, then the index.
    public var fileNames: [String] {
        let weights = files.map { URL(fileURLWithPath: $0.name).lastPathComponent }
        guard let index else { return weights }
        return weights + [URL(fileURLWithPath: index.name).lastPathComponent]
    }

    private func file(for name: String) throws -> SafeTensorsFile {
        guard let file = fileByTensor[name] else {
            throw CheckpointError(directory.path, "no tensor named '\(name)'")
        }
        return file
    }

    /// Calls `body` with the tensor's raw little-endian bytes (valid only during the call).
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try file(for: name).withBytes(of: name, body)
    }

    /// Calls `body` with the tensor's bytes in bounded pieces, dropping each piece's mapped
    /// pages afterwards (see `SafeTensorsFile.forEachChunk`).
    public func forEachChunk(of name: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try file(for: name).forEachChunk(of: name, body)
    }

    /// Calls `body` with the tensor's values as Float in bounded pieces (see
    /// `SafeTensorsFile.forEachFloatChunk`).
    public func forEachFloatChunk(of name: String, _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        try file(for: name).forEachFloatChunk(of: name, body)
    }

    /// Drops the tensor's mapped pages from the resident set (they are read back when needed).
    public func releasePages(of name: String) throws { try file(for: name).releasePages(of: name) }

    /// The tensor's values widened (or, from F64, rounded) to Float.
    public func floats(_ name: String) throws -> [Float] { try file(for: name).floats(name) }

    /// Rows `rows` (first dimension) of the tensor as Float; only those rows are read.
    public func floats(_ name: String, rows: Range<Int>) throws -> [Float] { try file(for: name).floats(name, rows: rows) }

    public func int64s(_ name: String) throws -> [Int64] { try file(for: name).int64s(name) }
}
