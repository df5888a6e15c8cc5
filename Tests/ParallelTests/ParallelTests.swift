import Foundation
import Parallel
import Testing

struct ParallelTests {
    struct Failure: Error, Equatable { let item: Int }

    @Test("every item runs once, results come back in item order", arguments: [1, 2, 7])
    func mapKeepsItemOrder(workers: Int) throws {
        let squares = try Parallel(workers: workers).map(100) { $0 * $0 }
        #expect(squares == (0..<100).map { $0 * $0 })
    }

    @Test func claimOrderChangesOnlyTheScheduling() throws {
        let order = Array((0..<20).reversed())
        #expect(try Parallel(workers: 3).map(20, claimOrder: order) { $0 + 1 } == Array(1...20))
    }

    @Test func theFirstFailedItemsErrorIsRethrown() {
        #expect(throws: Failure(item: 3)) {
            _ = try Parallel(workers: 4).map(10) { item -> Int in
                if item == 3 || item == 8 { throw Failure(item: item) }
                return item
            }
        }
    }

    @Test func noItemsRunNothing() throws {
        #expect(try Parallel(workers: 4).map(0) { $0 }.isEmpty)
        Parallel(workers: 4).forEach(0) { _ in Issue.record("ran an item") }
    }
}
