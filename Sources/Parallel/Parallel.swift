import Foundation

/// Runs independent work items on a fixed number of workers. Item `i` always runs the same code
/// on the same data whatever worker runs it, so results depend neither on the worker count nor
/// on scheduling. Workers claim the next item from a shared counter, so a worker the OS pauses
/// (on a busy machine) does not leave the others waiting with its share.
public struct Parallel: Sendable {
    public let workers: Int

    /// `workers` defaults to every core.
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.workers = max(1, workers)
    }

    /// Runs `body(item, &scratch)` for every item in `0..<count`; each worker makes its scratch once.
    public func forEach<Scratch>(
        _ count: Int, scratch makeScratch: @Sendable () -> Scratch, _ body: @Sendable (Int, inout Scratch) -> Void
    ) {
        forEach(count, claimOrder: nil, scratch: makeScratch, body)
    }

    public func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        forEach(count, scratch: { () }) { item, _ in body(item) }
    }

    /// `body` of every item in `0..<count`, in item order; rethrows the failure of the first
    /// failed item. `claimOrder` (a permutation of the items) is the order workers pick items in,
    /// e.g. largest first so one big item does not end up last on a single core.
    public func map<Value>(_ count: Int, claimOrder: [Int]? = nil, _ body: @Sendable (Int) throws -> Value) throws -> [Value] {
        let slots = ResultSlots<Value>(count: count)
        forEach(count, claimOrder: claimOrder, scratch: { () }) { item, _ in slots.store(item, Result { try body(item) }) }
        return try slots.values()
    }

    private func forEach<Scratch>(
        _ count: Int, claimOrder: [Int]?, scratch makeScratch: @Sendable () -> Scratch,
        _ body: @Sendable (Int, inout Scratch) -> Void
    ) {
        let item = { @Sendable (position: Int) in claimOrder?[position] ?? position }
        let active = min(workers, count)
        guard active > 1 else {
            guard count > 0 else { return }
            var scratch = makeScratch()
            for position in 0..<count { body(item(position), &scratch) }
            return
        }
        let next = WorkCounter()
        DispatchQueue.concurrentPerform(iterations: active) { _ in
            var scratch = makeScratch()
            while let position = next.take(below: count) { body(item(position), &scratch) }
        }
    }
}

/// A lock-protected counter handing out work items to `concurrentPerform` workers.
private final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// The next item, or nil once `limit` items were handed out.
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// One result slot per work item, each written by exactly one worker.
private final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Result<Value, any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<Value, any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    /// The values in index order; rethrows the first failure.
    func values() throws -> [Value] {
        try slots.map { try $0!.get() }
    }
}
