import Foundation

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

/// Standard normal draws from `SeededGenerator` through the Box-Muller transform, so a seed
/// reproduces every random value the tool makes (`lsh` projections, random rows of a
/// conversion). They are not torch's: values the reference draws at random can only be compared
/// by their statistics.
public struct SeededNormal: Sendable {
    private var bits: SeededGenerator
    private var spare: Double?

    /// `stream` derives an independent stream from one seed (the FNV-1a hash of the label is
    /// mixed into it), one per tensor of a conversion; nil uses the seed as it is.
    public init(seed: UInt64, stream: String? = nil) {
        guard let stream else {
            bits = SeededGenerator(seed: seed)
            return
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        bits = SeededGenerator(seed: seed ^ hash)
    }

    /// Uniform in (0, 1].
    private mutating func nextUniform() -> Double {
        (Double(bits.next() >> 11) + 1) * 0x1p-53
    }

    public mutating func next() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        let radius = (-2 * log(nextUniform())).squareRoot()
        let angle = 2 * Double.pi * nextUniform()
        spare = radius * sin(angle)
        return radius * cos(angle)
    }
}
