import Foundation

/// Runs independent items over the machine's cores, results in item order. (The encoder's
/// `WorkSplitter` lives in LSGEncoder, which this target does not depend on; this is the
/// minimal form tokenization needs.)
enum BatchRunner {
    static func map<Value: Sendable>(_ items: Range<Int>, _ body: @Sendable (Int) throws(TokenizerError) -> Value) throws(TokenizerError) -> [Value] {
        let count = items.count
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, count)
        guard workers > 1 else {
            var values: [Value] = []
            values.reserveCapacity(count)
            for index in items { values.append(try body(index)) }
            return values
        }
        let slots = Slots<Value>(count: count)
        // Workers claim the next item, so one long text does not leave the other worker idle.
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let slot = slots.claim() {
                let index = items.lowerBound + slot
                slots.set(slot, Result { () throws(TokenizerError) in try body(index) })
            }
        }
        return try slots.values()
    }

    /// Result slots written by the workers, each at its own index.
    private final class Slots<Value: Sendable>: @unchecked Sendable {
        private var results: [Result<Value, TokenizerError>?]
        private var next = 0
        private let lock = NSLock()

        func claim() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < results.count else { return nil }
            next += 1
            return next - 1
        }

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ result: Result<Value, TokenizerError>) {
            lock.lock()
            results[index] = result
            lock.unlock()
        }

        func values() throws(TokenizerError) -> [Value] {
            var values: [Value] = []
            values.reserveCapacity(results.count)
            for result in results { values.append(try result!.get()) }
            return values
        }
    }
}
