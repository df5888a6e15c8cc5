import Foundation

/// The sinusoidal position table transformers computes for Pegasus
/// (`PegasusSinusoidalPositionalEmbedding._init_weight`): row `p`, column `k` of the first half
/// is `sin(p / 10000^(2k / width))`, column `k` of the second half the cosine of the same
/// angle. Computed in double precision and rounded to float once, as numpy then
/// `torch.FloatTensor` do, so the values equal the reference's bit for bit.
public enum SinusoidalPositions {
    public static func table(rows: Int, width: Int) -> [Float] {
        let sines = (width + 1) / 2
        let cosines = width / 2
        let inverseFrequencies = (0..<sines).map { k in Foundation.pow(10000.0, Double(2 * k) / Double(width)) }
        var values = [Float](repeating: 0, count: rows * width)
        for position in 0..<rows {
            let row = position * width
            for k in 0..<sines {
                values[row + k] = Float(Foundation.sin(Double(position) / inverseFrequencies[k]))
            }
            for k in 0..<cosines {
                values[row + sines + k] = Float(Foundation.cos(Double(position) / inverseFrequencies[k]))
            }
        }
        return values
    }
}
