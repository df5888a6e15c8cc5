import Checkpoint
import Foundation
import LSGEncoder

/// Compares an LSG checkpoint with the short model it was converted from, on a probe both
/// can read: the cosine similarity of their hidden states (first token excluded, it is the one
/// global pooling rewrites) and, when both have an MLM head, top-1 agreement of the logits.
public struct ParityProbe: Sendable {
    public let length: Int
    public let meanCosine: Double
    public let minimumCosine: Double
    /// Fraction of the probed positions where both models predict the same token; nil without
    /// MLM heads.
    public let top1Agreement: Double?
    /// The positions whose MLM top-1 is compared: one in `top1Stride` from position 1, so the
    /// vocabulary projection (a fifth of a base model's work at 512 tokens) runs on a sample.
    public let top1Positions: [Int]
    public static let top1Stride = 4

    /// Runs both models on `length` tokens (default: the source's limit, at most the LSG
    /// model's): the sequence-start id, then ids drawn with `seed`.
    public init(
        lsg: ModelDirectory, source: ModelDirectory, overrides: LSGOverrides = LSGOverrides(), length: Int? = nil,
        seed: UInt64 = 0, options: EncodeOptions = EncodeOptions()
    ) throws {
        let lsgConfiguration = try EncoderConfiguration(model: lsg, overrides: overrides)
        let sourceConfiguration = try EncoderConfiguration(model: source)
        let limit = min(sourceConfiguration.maxInputLength, lsgConfiguration.maxInputLength)
        let length = length ?? limit
        guard length >= 2, length <= limit else {
            throw GoldenError("probe length \(length) must be between 2 and \(limit) (the shorter model's limit)")
        }
        let h = lsgConfiguration.hiddenSize
        guard sourceConfiguration.hiddenSize == h else {
            throw GoldenError("hidden sizes differ: \(h) (LSG) and \(sourceConfiguration.hiddenSize) (source)")
        }
        let vocabulary = min(lsgConfiguration.vocabSize, sourceConfiguration.vocabSize)
        let pad = sourceConfiguration.padTokenId
        var generator = SeededGenerator(seed: seed)
        var ids = [Int64(source.tokenizer.sequenceStartId(config: source.config) ?? 0)]
        while ids.count < length {
            let id = Int.random(in: 0..<vocabulary, using: &generator)
            if id != pad { ids.append(Int64(id)) }
        }
        let input = try EncoderInput(inputIds: ids, batchSize: 1, length: length)
        let positions = Array(stride(from: 1, to: length, by: Self.top1Stride))
        var options = options
        options.maskedLMRows = positions
        // One model after the other, keeping only hidden states and top-1 ids: each encoder is
        // gone, and the pages it read released, before the next loads.
        let lsgRun = try Self.run(Self.encoder(lsg, overrides: overrides), input, options)
        let sourceRun = try Self.run(Self.encoder(source, overrides: LSGOverrides()), input, options)

        var cosines: [Double] = []
        for token in 1..<length {
            cosines.append(Self.cosine(lsgRun.hiddenStates, sourceRun.hiddenStates, offset: token * h, count: h))
        }
        self.length = length
        top1Positions = positions
        meanCosine = cosines.reduce(0, +) / Double(cosines.count)
        minimumCosine = cosines.min() ?? 1
        if let lsgTop1 = lsgRun.top1, let sourceTop1 = sourceRun.top1,
           lsgConfiguration.vocabSize == sourceConfiguration.vocabSize {
            let agreeing = zip(lsgTop1, sourceTop1).filter { $0 == $1 }
            top1Agreement = Double(agreeing.count) / Double(positions.count)
        } else {
            top1Agreement = nil
        }
    }

    /// The hidden states, and the most likely token at each of `options.maskedLMRows` when the
    /// MLM head ran.
    private static func run(
        _ encoder: Encoder, _ input: EncoderInput, _ options: EncodeOptions
    ) throws -> (hiddenStates: [Float], top1: [Int]?) {
        let output = try encoder.encode(input, options: options)
        let v = encoder.configuration.vocabSize
        let top1 = output.logits.map { logits in
            (0..<(logits.count / v)).map { argmax(logits, offset: $0 * v, count: v) }
        }
        return (output.lastHiddenState, top1)
    }

    /// With the MLM head when the checkpoint has one.
    private static func encoder(_ model: ModelDirectory, overrides: LSGOverrides) throws -> Encoder {
        if let withHead = try? Encoder(model: model, overrides: overrides, heads: [.mlm]) { return withHead }
        return try Encoder(model: model, overrides: overrides)
    }

    private static func cosine(_ a: [Float], _ b: [Float], offset: Int, count: Int) -> Double {
        var dot = 0.0, normA = 0.0, normB = 0.0
        for i in offset..<(offset + count) {
            dot += Double(a[i]) * Double(b[i])
            normA += Double(a[i]) * Double(a[i])
            normB += Double(b[i]) * Double(b[i])
        }
        return dot / max((normA * normB).squareRoot(), 1e-30)
    }

    private static func argmax(_ values: [Float], offset: Int, count: Int) -> Int {
        var best = offset
        for i in offset..<(offset + count) where values[i] > values[best] { best = i }
        return best - offset
    }

    /// The thresholds this probe misses, one sentence each (empty when it meets them all).
    public func failures(minimumMeanCosine: Double?, minimumTop1Agreement: Double?) -> [String] {
        var failures: [String] = []
        if let minimumMeanCosine, meanCosine < minimumMeanCosine {
            failures.append("mean cosine similarity \(String(format: "%.6f", meanCosine)) is below \(minimumMeanCosine)")
        }
        if let minimumTop1Agreement {
            if let top1Agreement {
                if top1Agreement < minimumTop1Agreement {
                    failures.append("MLM top-1 agreement \(String(format: "%.4f", top1Agreement)) is below \(minimumTop1Agreement)")
                }
            } else {
                failures.append("a minimum MLM top-1 agreement is set but a model has no MLM head")
            }
        }
        return failures
    }

    /// The figures on one line.
    public var summary: String {
        var line = "parity with the source on a \(length)-token probe: hidden-state cosine mean \(String(format: "%.6f", meanCosine)), min \(String(format: "%.6f", minimumCosine))"
        if let top1Agreement {
            line += ", MLM top-1 agreement \(String(format: "%.2f", top1Agreement * 100)) % of \(top1Positions.count) positions"
        }
        return line
    }

    public var text: String {
        var lines = ["Comparing with the source model on a \(length)-token probe (first token excluded):"]
        lines.append("\t-hidden states: cosine similarity mean \(String(format: "%.6f", meanCosine)), min \(String(format: "%.6f", minimumCosine))")
        if let top1Agreement {
            lines.append("\t-MLM top-1 agreement: \(String(format: "%.2f", top1Agreement * 100)) % of \(top1Positions.count) positions (one in \(Self.top1Stride))")
        } else {
            lines.append("\t-MLM top-1 agreement: not measured (a model has no MLM head)")
        }
        return lines.joined(separator: "\n")
    }
}
