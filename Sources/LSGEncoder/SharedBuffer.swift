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
