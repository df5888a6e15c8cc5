import LSGErrors

/// `norm` sparse selections to replay instead of computing them.
///
/// `norm` keeps, in each chunk, the keys of largest norm. When two norms differ only by float32
/// rounding, a different matrix library (or thread split, or noise of 1e-7 in a weight) flips the
/// choice, and with thousands of tokens over many layers some choices always sit that close: the
/// reference moves by about 1e-3 against itself under 1e-6 relative weight noise. Replaying the
/// reference's choices, as `lsh` replays its random draws, leaves only the arithmetic to compare.
public struct RecordedNormSelections: Sendable {
    /// One entry per layer, in call order: token indices `[batch, heads, chunks × keep]` into the
    /// sequence without its global tokens, in the order the reference gathers them.
    public let layers: [[Int64]]
    /// Where they came from, for error messages (a file name).
    public let source: String

    public init(layers: [[Int64]], source: String = "recorded norm selections") {
        self.layers = layers
        self.source = source
    }

    /// Checks the recording fits this run: one entry per layer, `batch × heads × perHead`
    /// indices each, every index inside the chunk its position belongs to.
    func check(layerCount: Int, batchSize: Int, heads: Int, perHead: Int, chunk: Int, keep: Int) throws(LSGError) {
        guard layers.count == layerCount else {
            throw LSGError(.malformed, "\(source): \(layers.count) recorded norm selections, the model has \(layerCount) layers")
        }
        for (layer, indices) in layers.enumerated() {
            guard indices.count == batchSize * heads * perHead else {
                throw LSGError(.shapeMismatch, "\(source): norm selection #\(layer) holds \(indices.count) indices, expected \(batchSize * heads * perHead) (batch \(batchSize) × \(heads) heads × \(perHead))")
            }
            for (position, index) in indices.enumerated() {
                let first = (position % perHead) / keep * chunk
                guard index >= first && index < first + chunk else {
                    throw LSGError(.malformed, "\(source): norm selection #\(layer): index \(index) at position \(position) is outside its chunk \(first)..<\(first + chunk)")
                }
            }
        }
    }

    /// The indices of one layer and sequence, all heads: `perSequence` (heads × perHead) of them.
    func indices(layer: Int, sequence: Int, perSequence: Int) -> ArraySlice<Int64> {
        layers[layer][(sequence * perSequence)..<((sequence + 1) * perSequence)]
    }
}
