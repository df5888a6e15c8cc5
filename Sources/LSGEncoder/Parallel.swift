import Checkpoint
import Foundation

/// Splits independent work items over a fixed number of workers. Item `i` always runs the same
/// code on the same data whatever worker runs it, so results depend neither on the worker count
/// nor on scheduling. Workers claim the next item from a shared counter, so a worker the OS
/// pauses (on a busy machine) does not leave the others waiting with its share.
struct WorkSplitter: Sendable {
    let workers: Int

    init(threads: Int) {
        workers = max(1, threads)
    }

    /// Runs `body(item, &scratch)` for every item in `0..<count`; each worker makes its scratch once.
    func forEach<Scratch>(
        _ count: Int, scratch makeScratch: @Sendable () -> Scratch, _ body: @Sendable (Int, inout Scratch) -> Void
    ) {
        let active = min(workers, count)
        guard active > 1 else {
            guard count > 0 else { return }
            var scratch = makeScratch()
            for item in 0..<count { body(item, &scratch) }
            return
        }
        let next = WorkCounter()
        DispatchQueue.concurrentPerform(iterations: active) { _ in
            var scratch = makeScratch()
            while let item = next.take(below: count) { body(item, &scratch) }
        }
    }

    func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        forEach(count, scratch: { () }) { item, _ in body(item) }
    }
}

/// A fixed-size array with a stable address, written by parallel workers on disjoint ranges
/// (that discipline is what makes the unchecked Sendable sound).
final class SharedBuffer<Element: Numeric>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { base.deallocate() }

    subscript(offset: Int) -> UnsafeMutablePointer<Element> { base + offset }
}

typealias FloatBuffer = SharedBuffer<Float>
