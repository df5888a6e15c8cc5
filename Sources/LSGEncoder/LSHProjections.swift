import Foundation
import LSGErrors

/// The random projections `lsh` sparsity hashes keys with. The reference draws a fresh
/// `[1, heads, 1, headSize, hashes]` standard-normal tensor for every hashing round (each layer
/// runs `lsh_num_pre_rounds` rounds, then one more), so its outputs can only be reproduced by
/// replaying the draws it made, in call order.
public enum LSHProjectionSource: Sendable {
    /// Draws from a generator seeded with this value at the start of every encode call.
    case seeded(UInt64)
    /// Recorded draws in call order, each `heads × headSize × hashes` values.
    case recorded([[Float]])
}

/// Hands out one projection per hashing round, in the reference's call order.
struct LSHProjectionStream {
    private var source: LSHProjectionSource
    private var generator: SeededNormal
    private var nextRecorded = 0

    init(_ source: LSHProjectionSource) {
        self.source = source
        if case .seeded(let seed) = source {
            generator = SeededNormal(seed: seed)
        } else {
            generator = SeededNormal(seed: 0)
        }
    }

    /// The next projection, `heads × headSize × hashes` row-major.
    mutating func next(heads: Int, headSize: Int, hashes: Int) throws(LSGError) -> [Float] {
        let count = heads * headSize * hashes
        switch source {
        case .seeded:
            return (0..<count).map { _ in Float(generator.next()) }
        case .recorded(let draws):
            guard nextRecorded < draws.count else {
                throw LSGError(.malformed, "lsh needs projection #\(nextRecorded) but only \(draws.count) were recorded")
            }
            let draw = draws[nextRecorded]
            guard draw.count == count else {
                throw LSGError(.shapeMismatch, "lsh projection #\(nextRecorded) holds \(draw.count) values, expected \(count) (\(heads) heads × \(headSize) × \(hashes) hashes)")
            }
            nextRecorded += 1
            return draw
        }
    }
}
