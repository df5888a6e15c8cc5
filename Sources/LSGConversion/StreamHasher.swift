import Checkpoint
import Dispatch
import Foundation

/// Hashes the bytes of the weights files on a second thread while the writer writes them: the
/// sha256 of each whole file and of each tensor's bytes, for the manifest. `add` copies the
/// bytes into one of a few fixed buffers and returns (it waits only when all are full), so
/// memory stays bounded and writing and hashing overlap on two cores.
final class StreamHasher: @unchecked Sendable {
    private enum Item {
        case bytes(file: String, slot: Int, count: Int)
        case beginTensor(String)
        case endTensor
        case stop
    }

    private static let slotBytes = 4 << 20
    private let slots: [UnsafeMutableRawBufferPointer]
    private var freeSlots: [Int]
    private var queue: [Item] = []
    private let lock = NSCondition()
    private let finished = DispatchGroup()
    // Owned by the hashing thread until `finish` has waited for it.
    private var fileHashers: [String: TensorHashing.Hasher] = [:]
    private var tensorDigests: [String: String] = [:]

    init(slotCount: Int = 4) {
        slots = (0..<slotCount).map { _ in .allocate(byteCount: Self.slotBytes, alignment: 64) }
        freeSlots = Array(slots.indices)
        DispatchQueue.global().async(group: finished) { self.hashUntilStopped() }
    }

    deinit {
        for slot in slots { slot.deallocate() }
    }

    /// The bytes that follow, until `endTensor`, are the tensor `name`'s.
    func beginTensor(_ name: String) { enqueue(.beginTensor(name)) }

    func endTensor() { enqueue(.endTensor) }

    /// Bytes written to `file` (they also belong to the open tensor, if any).
    func add(file: String, bytes: UnsafeRawBufferPointer) {
        var start = 0
        while start < bytes.count {
            let count = min(Self.slotBytes, bytes.count - start)
            lock.lock()
            while freeSlots.isEmpty { lock.wait() }
            let slot = freeSlots.removeLast()
            lock.unlock()
            slots[slot].copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)]))
            enqueue(.bytes(file: file, slot: slot, count: count))
            start += count
        }
    }

    /// Waits for the hashing thread; returns the digests of every file and tensor seen.
    func finish() -> (files: [String: String], tensors: [String: String]) {
        enqueue(.stop)
        finished.wait()
        return (fileHashers.mapValues { $0.finalize() }, tensorDigests)
    }

    private func enqueue(_ item: Item) {
        lock.lock()
        queue.append(item)
        lock.broadcast()
        lock.unlock()
    }

    private func hashUntilStopped() {
        var tensor: (name: String, hasher: TensorHashing.Hasher)?
        var next = 0
        while true {
            lock.lock()
            while next == queue.count { lock.wait() }
            let item = queue[next]
            next += 1
            if next == queue.count {
                queue.removeAll(keepingCapacity: true)
                next = 0
            }
            lock.unlock()
            switch item {
            case .bytes(let file, let slot, let count):
                let bytes = UnsafeRawBufferPointer(rebasing: slots[slot][0..<count])
                fileHashers[file, default: TensorHashing.Hasher()].update(bytes)
                tensor?.hasher.update(bytes)
                lock.lock()
                freeSlots.append(slot)
                lock.broadcast()
                lock.unlock()
            case .beginTensor(let name):
                tensor = (name, TensorHashing.Hasher())
            case .endTensor:
                if let tensor { tensorDigests[tensor.name] = tensor.hasher.finalize() }
                tensor = nil
            case .stop:
                return
            }
        }
    }
}
