import Foundation

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
    private var generator: NormalGenerator
    private var nextRecorded = 0

    init(_ source: LSHProjectionSource) {
        self.source = source
        if case .seeded(let seed) = source {
            generator = NormalGenerator(seed: seed)
        } else {
            generator = NormalGenerator(seed: 0)
        }
    }

    /// The next projection, `heads × headSize × hashes` row-major.
    mutating func next(heads: Int, headSize: Int, hashes: Int) throws(EncoderError) -> [Float] {
        let count = heads * headSize * hashes
        switch source {
        case .seeded:
            return (0..<count).map { _ in generator.next() }
        case .recorded(let draws):
            guard nextRecorded < draws.count else {
                throw EncoderError("lsh needs projection #\(nextRecorded) but only \(draws.count) were recorded")
            }
            let draw = draws[nextRecorded]
            guard draw.count == count else {
                throw EncoderError("lsh projection #\(nextRecorded) holds \(draw.count) values, expected \(count) (\(heads) heads × \(headSize) × \(hashes) hashes)")
            }
            nextRecorded += 1
            return draw
        }
    }
}

/// SplitMix64: a small seeded generator whose stream is the same on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Standard normal Floats from `SeededGenerator` through the Box-Muller transform.
struct NormalGenerator {
    private var bits: SeededGenerator
    private var spare: Float?

    init(seed: UInt64) { bits = SeededGenerator(seed: seed) }

    /// Uniform in (0, 1].
    private mutating func nextUniform() -> Double {
        (Double(bits.next() >> 11) + 1) * 0x1p-53
    }

    mutating func next() -> Float {
        if let value = spare {
            spare = nil
            return value
        }
        let radius = (-2 * log(nextUniform())).squareRoot()
        let angle = 2 * Double.pi * nextUniform()
        spare = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }
}
