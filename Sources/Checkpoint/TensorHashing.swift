import Crypto
import Dispatch
import Foundation

/// SHA-256 digests of tensor bytes and files, as lowercase hex.
public enum TensorHashing {
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// Hashes many byte ranges on every core. Results come back in input order, whatever the scheduling.
    /// Largest ranges start first so one big embedding table does not end up last on a single core.
    public static func sha256Hex(ofEach buffers: [UnsafeRawBufferPointer]) -> [String] {
        let order = buffers.indices.sorted { buffers[$0].count > buffers[$1].count }
        let results = UnsafeMutableBufferPointer<String>.allocate(capacity: buffers.count)
        results.initialize(repeating: "")
        defer { results.deallocate() }
        let next = WorkCounter()
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, max(buffers.count, 1))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let position = next.take(below: order.count) {
                let index = order[position]
                results[index] = sha256Hex(buffers[index])
            }
        }
        return Array(results)
    }

    /// Streams a file through SHA-256 in 4 MiB reads, so a large shard is never fully in memory.
    public static func sha256Hex(fileAt url: URL) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CheckpointError(url.path, "cannot open for reading")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 4 << 20)
            } catch {
                throw CheckpointError(url.path, "read failed (\(error.localizedDescription))")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A lock-protected counter handing out work items to `concurrentPerform` workers.
final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
