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
    /// Fraction of positions where both models predict the same token; nil without MLM heads.
    public let top1Agreement: Double?

    /// Runs both models on `length` tokens (default: the source's limit, at most the LSG
    /// model's): the sequence-start id, then ids drawn with `seed`.
    public init(
        lsg: ModelDirectory, source: ModelDirectory, overrides: LSGOverrides = LSGOverrides(), length: Int? = nil,
        seed: UInt64 = 0, options: EncodeOptions = EncodeOptions()
    ) throws {
        let lsgEncoder = try Self.encoder(lsg, overrides: overrides)
        let sourceEncoder = try Self.encoder(source, overrides: LSGOverrides())
        let limit = min(sourceEncoder.configuration.maxInputLength, lsgEncoder.configuration.maxInputLength)
        let length = length ?? limit
        guard length >= 2, length <= limit else {
            throw GoldenError("probe length \(length) must be between 2 and \(limit) (the shorter model's limit)")
        }
        let vocabulary = min(lsgEncoder.configuration.vocabSize, sourceEncoder.configuration.vocabSize)
        let pad = sourceEncoder.configuration.padTokenId
        var generator = SeededGenerator(seed: seed)
        var ids = [Int64(source.tokenizer.sequenceStartId(config: source.config) ?? 0)]
        while ids.count < length {
            let id = Int.random(in: 0..<vocabulary, using: &generator)
            if id != pad { ids.append(Int64(id)) }
        }
        let input = try EncoderInput(inputIds: ids, batchSize: 1, length: length)
        let lsgOutput = try lsgEncoder.encode(input, options: options)
        let sourceOutput = try sourceEncoder.encode(input, options: options)

        let h = lsgEncoder.configuration.hiddenSize
        guard sourceEncoder.configuration.hiddenSize == h else {
            throw GoldenError("hidden sizes differ: \(h) (LSG) and \(sourceEncoder.configuration.hiddenSize) (source)")
        }
        var cosines: [Double] = []
        for token in 1..<length {
            cosines.append(Self.cosine(lsgOutput.lastHiddenState, sourceOutput.lastHiddenState, offset: token * h, count: h))
        }
        self.length = length
        meanCosine = cosines.reduce(0, +) / Double(cosines.count)
        minimumCosine = cosines.min() ?? 1
        if let lsgLogits = lsgOutput.logits, let sourceLogits = sourceOutput.logits,
           lsgEncoder.configuration.vocabSize == sourceEncoder.configuration.vocabSize {
            let v = lsgEncoder.configuration.vocabSize
            let agreeing = (1..<length).filter { token in
                Self.argmax(lsgLogits, offset: token * v, count: v) == Self.argmax(sourceLogits, offset: token * v, count: v)
            }
            top1Agreement = Double(agreeing.count) / Double(length - 1)
        } else {
            top1Agreement = nil
        }
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
        if let top1Agreement { line += ", MLM top-1 agreement \(String(format: "%.2f", top1Agreement * 100)) %" }
        return line
    }

    public var text: String {
        var lines = ["Comparing with the source model on a \(length)-token probe (first token excluded):"]
        lines.append("\t-hidden states: cosine similarity mean \(String(format: "%.6f", meanCosine)), min \(String(format: "%.6f", minimumCosine))")
        if let top1Agreement {
            lines.append("\t-MLM top-1 agreement: \(String(format: "%.2f", top1Agreement * 100)) %")
        } else {
            lines.append("\t-MLM top-1 agreement: not measured (a model has no MLM head)")
        }
        return lines.joined(separator: "\n")
    }
}
