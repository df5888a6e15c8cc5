import Checkpoint
import Dispatch
import Foundation

/// Hashes the bytes of the weights files while the writer writes them: the sha256 of each whole
/// file on one thread and of each tensor's bytes on another, for the manifest. `add` copies the
/// bytes into one of a few fixed buffers and returns (it waits only when all are full), so
/// memory stays bounded and writing and both hashes overlap.
final class StreamHasher: @unchecked Sendable {
    private enum Item {
        case bytes(file: String, slot: Int, count: Int)
        case beginTensor(String)
        case endTensor
        case stop
    }

    /// What each hashing thread digests; every item goes to both.
    private enum Lane: Int, CaseIterable {
        case files, tensors
    }

    private static let slotBytes = 4 << 20
    private let slots: [UnsafeMutableRawBufferPointer]
    private var freeSlots: [Int]
    /// How many lanes have still to hash each slot's bytes.
    private var slotReaders: [Int]
    /// One queue per lane, indexed by its raw value.
    private var queues: [[Item]] = Lane.allCases.map { _ in [] }
    private let lock = NSCondition()
    private let finished = DispatchGroup()
    // Each owned by its lane's thread until `finish` has waited for both.
    private var fileHashers: [String: TensorHashing.Hasher] = [:]
    private var tensorDigests: [String: String] = [:]

    init(slotCount: Int = 6) {
        slots = (0..<slotCount).map { _ in .allocate(byteCount: Self.slotBytes, alignment: 64) }
        freeSlots = Array(slots.indices)
        slotReaders = Array(repeating: 0, count: slotCount)
        for lane in Lane.allCases {
            finished.enter()
            // Own threads, not the shared dispatch pool: both run for the whole write, and on a
            // small machine they would otherwise hold every pool thread the source hashing needs.
            let thread = Thread { [self] in
                hashUntilStopped(lane)
                finished.leave()
            }
            thread.start()
        }
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
            slotReaders[slot] = Lane.allCases.count
            lock.unlock()
            slots[slot].copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)]))
            enqueue(.bytes(file: file, slot: slot, count: count))
            start += count
        }
    }

    /// Waits for the hashing threads; returns the digests of every file and tensor seen.
    func finish() -> (files: [String: String], tensors: [String: String]) {
        enqueue(.stop)
        finished.wait()
        return (fileHashers.mapValues { $0.finalize() }, tensorDigests)
    }

    private func enqueue(_ item: Item) {
        lock.lock()
        for lane in queues.indices { queues[lane].append(item) }
        lock.broadcast()
        lock.unlock()
    }

    private func hashUntilStopped(_ lane: Lane) {
        var tensor: (name: String, hasher: TensorHashing.Hasher)?
        var next = 0
        while true {
            lock.lock()
            while next == queues[lane.rawValue].count { lock.wait() }
            let item = queues[lane.rawValue][next]
            next += 1
            if next == queues[lane.rawValue].count {
                queues[lane.rawValue].removeAll(keepingCapacity: true)
                next = 0
            }
            lock.unlock()
            switch (item, lane) {
            case (.bytes(let file, let slot, let count), _):
                let bytes = UnsafeRawBufferPointer(rebasing: slots[slot][0..<count])
                if lane == .files {
                    fileHashers[file, default: TensorHashing.Hasher()].update(bytes)
                } else {
                    tensor?.hasher.update(bytes)
                }
                lock.lock()
                slotReaders[slot] -= 1
                if slotReaders[slot] == 0 {
                    freeSlots.append(slot)
                    lock.broadcast()
                }
                lock.unlock()
            case (.beginTensor(let name), .tensors):
                tensor = (name, TensorHashing.Hasher())
            case (.endTensor, .tensors):
                if let tensor { tensorDigests[tensor.name] = tensor.hasher.finalize() }
                tensor = nil
            case (.beginTensor, .files), (.endTensor, .files):
                continue
            case (.stop, _):
                return
            }
        }
    }
}
