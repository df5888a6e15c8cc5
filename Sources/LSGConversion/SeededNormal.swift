import Foundation

/// A deterministic source of standard normal draws (SplitMix64 and Box-Muller), so a seed
/// reproduces every random tensor of a conversion. Values are not torch's: rows the
/// reference draws at random can only be compared by their statistics.
public struct SeededNormal: Sendable {
    private var state: UInt64
    private var spare: Double?

    /// Streams for different tensors of one conversion are derived from the seed and a label.
    public init(seed: UInt64, stream: String = "") {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the label
        for byte in stream.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        state = seed ^ hash
    }

    private mutating func nextUInt64() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    private mutating func nextUnit() -> Double {
        (Double(nextUInt64() >> 11) + 1) / Double(1 << 53)
    }

    public mutating func next() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        let radius = (-2 * Foundation.log(nextUnit())).squareRoot()
        let angle = 2 * Double.pi * nextUnit()
        spare = radius * Foundation.sin(angle)
        return radius * Foundation.cos(angle)
    }
}
