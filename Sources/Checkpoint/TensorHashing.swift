import Crypto
import FileIO
import Foundation
import LSGErrors
import Parallel
import SafeTensors

/// SHA-256 digests of tensor bytes and files, as lowercase hex.
public enum TensorHashing {
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// An incremental SHA-256, for bytes that stream past (a tensor while it is written).
    public struct Hasher {
        private var state = SHA256()

        public init() {}

        public mutating func update(_ bytes: UnsafeRawBufferPointer) { state.update(bufferPointer: bytes) }

        /// The digest of everything passed to `update`, as lowercase hex.
        public func finalize() -> String { hex(state.finalize()) }
    }

    /// Hashes the raw bytes of each tensor of `store` by loaded name (see `sha256Hex(ofEach:)`).
    public static func sha256Hex(ofEach names: [String], in store: TensorStore) throws -> [String] {
        let tensors = try names.map { name in
            guard let location = store.location(of: name) else { throw LSGError(.missingTensor, file: store.directory.path, "no tensor named '\(name)'") }
            return (file: location.file, name: location.nameInFile)
        }
        return try sha256Hex(ofEach: tensors)
    }

    /// Hashes the raw bytes of each named tensor on every core; digests come back in input order.
    /// Largest tensors start first so one big embedding table does not end up last on a single core.
    public static func sha256Hex(ofEach tensors: [(file: SafeTensorsFile, name: String)]) throws -> [String] {
        let sizes = tensors.map { $0.file.info($0.name)?.byteCount ?? 0 }
        let order = tensors.indices.sorted { sizes[$0] > sizes[$1] }
        return try Parallel().map(tensors.count, claimOrder: order) { index in
            var hasher = Hasher()
            try tensors[index].file.forEachChunk(of: tensors[index].name) { hasher.update($0) }
            return hasher.finalize()
        }
    }

    /// Streams a regular file through SHA-256 in 4 MiB mapped chunks, so a large shard is never
    /// fully in memory.
    public static func sha256Hex(fileAt url: URL) throws -> String {
        var hasher = Hasher()
        do {
            try RegularFile.forEachChunk(of: url) { hasher.update($0) }
        } catch let error as LSGError {
            throw LSGError(error.kind, file: url.path, error.problem)
        }
        return hasher.finalize()
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        // Not String(format:) per byte: that dominated `inspect` of a file with many small tensors.
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(SHA256.Digest.byteCount * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
