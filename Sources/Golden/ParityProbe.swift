import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors
import Tokenizers

/// Compares an LSG checkpoint with the short model it was converted from on real text both can
/// read: a multilingual paragraph (or the caller's text) tokenized by the source's tokenizer and
/// repeated up to the probe length. The LSG model runs with blocks that cover the probe, where LSG
/// attention is the source's dense attention plus the global tokens, so what differs is the
/// conversion and not the sparse approximation (which the encoder goldens check). It reports the
/// cosine similarity of the hidden states (first token excluded, it is the one global pooling
/// rewrites) and compares the head the converted model has: MLM top-1 on masked words,
/// classifier logits, token labels.
public struct ParityProbe: Sendable {
    /// What the two models computed from, for the summary ("built-in multilingual text").
    public let textOrigin: String
    public let length: Int
    public let meanCosine: Double
    public let minimumCosine: Double
    /// The masked positions whose MLM top-1 is compared (one word piece in `maskStride`).
    public let maskedPositions: [Int]
    /// Fraction of the masked positions where both models predict the same token; nil without MLM heads.
    public let top1Agreement: Double?
    /// Fraction of the masked positions where the LSG model predicts the original token.
    public let lsgTop1Accuracy: Double?
    /// The task head compared, when the model has one both could run.
    public let head: HeadComparison?
    /// The decoders' logits compared, for encoder-decoder models that both have the generation head.
    public let decoder: DecoderComparison?
    public static let maskStride = 8

    /// How the two models' task-head outputs compare.
    public struct HeadComparison: Sendable {
        public let head: EncoderHead
        /// Largest absolute difference of the logits (real tokens only for per-token heads).
        public let maxDifference: Double
        /// Fraction of sequences (or tokens) with the same argmax label.
        public let argmaxAgreement: Double
        public let compared: Int
    }

    /// How two encoder-decoders' logits compare when their decoders are fed the probe's first
    /// tokens after the decoder start token (teacher forcing).
    public struct DecoderComparison: Sendable {
        /// Largest absolute difference of the logits.
        public let maxDifference: Double
        /// Fraction of decoder positions where both predict the same next token.
        public let top1Agreement: Double
        public let positions: Int
    }

    /// Decoder positions compared (the decoder runs densely, so a short prefix keeps it cheap).
    public static let decoderPositions = 64

    /// A short multilingual paragraph: prose in the languages the six families were trained on.
    public static let builtInText = """
        Paris est la capitale de la France. Elle est traversée par la Seine et compte plus de deux \
        millions d'habitants ; ses musées, comme le Louvre, attirent chaque année des visiteurs du monde \
        entier. The history of the city goes back more than two thousand years, and its libraries hold \
        manuscripts written long before the printing press changed how people read. Berlin ist die \
        Hauptstadt Deutschlands und liegt an der Spree. Madrid es la capital de España y su museo del \
        Prado guarda obras de Velázquez y Goya. Roma è la capitale d'Italia, famosa per il Colosseo e \
        per le fontane barocche.
        """

    /// Runs both models on `length` tokens (default: the source's limit, at most the LSG
    /// model's) of `text` (default `builtInText`) tokenized by the source's tokenizer.
    public init(
        lsg: ModelDirectory, source: ModelDirectory, overrides: LSGOverrides = LSGOverrides(), length: Int? = nil,
        text: String? = nil, textOrigin: String? = nil, options: EncodeOptions = EncodeOptions()
    ) throws {
        let lsgConfiguration = try EncoderConfiguration(model: lsg, overrides: overrides)
        let sourceConfiguration = try EncoderConfiguration(model: source)
        let limit = min(sourceConfiguration.maxInputLength, lsgConfiguration.maxInputLength)
        let length = length ?? limit
        guard length >= 2, length <= limit else {
            throw LSGError(.invalidOption, "probe length \(length) must be between 2 and \(limit) (the shorter model's limit)")
        }
        let h = lsgConfiguration.hiddenSize
        guard sourceConfiguration.hiddenSize == h else {
            throw LSGError(.shapeMismatch, "hidden sizes differ: \(h) (LSG) and \(sourceConfiguration.hiddenSize) (source)")
        }
        let tokenizer = try Tokenizer(directory: source.url)
        let ids = try Self.probeIDs(text ?? Self.builtInText, tokenizer: tokenizer, length: length)
        self.textOrigin = textOrigin ?? (text == nil ? "built-in multilingual text" : "the probe text")
        self.length = ids.count

        // The converted model's task head, when the source has it too (a head the conversion
        // added is random and has nothing to be compared with).
        // Encoder-decoders run their heads on the decoder (`Seq2SeqTaskHead`).
        let isEncoderDecoder = lsgConfiguration.isEncoderDecoder
        let taskHead = lsg.config.namedArchitecture.flatMap { EncoderHead(taskHead: $0.head) }
            .flatMap { head in
                let sourceHasIt = isEncoderDecoder
                    ? (try? Seq2SeqTaskHead(model: source, head: head)) != nil
                    : (try? Encoder(model: source, heads: [head])) != nil
                return sourceHasIt ? head : nil
            }
        let special = Set(tokenizer.specialTokens.tokens.values.compactMap(\.id))
        let maskID = tokenizer.specialTokens.id(.mask)
        var masked: [Int] = []
        var input = ids
        if taskHead == nil, let maskID {
            var seen = 0
            for position in ids.indices where !special.contains(ids[position]) {
                if seen % Self.maskStride == Self.maskStride / 2 {
                    masked.append(position)
                    input[position] = maskID
                }
                seen += 1
            }
        }
        let encoderInput = try EncoderInput(inputIds: input.map(Int64.init), batchSize: 1, length: input.count)
        var options = options
        options.maskedLMRows = masked

        // One model after the other, keeping only what is compared: each encoder is gone, and
        // the pages it read released, before the next loads.
        let covering = Self.covering(overrides, configuration: lsgConfiguration, length: ids.count)
        let encoderHead = isEncoderDecoder ? nil : taskHead
        var lsgOutput = try Self.run(lsg, overrides: covering, head: encoderHead, wantsMLM: !masked.isEmpty, encoderInput, options)
        var sourceOutput = try Self.run(source, overrides: LSGOverrides(), head: encoderHead, wantsMLM: !masked.isEmpty, encoderInput, options)
        if isEncoderDecoder, let taskHead {
            lsgOutput.taskOutputs = try Seq2SeqTaskHead(model: lsg, head: taskHead, overrides: covering)
                .outputs(encoderInput, encoderOutput: lsgOutput)
            sourceOutput.taskOutputs = try Seq2SeqTaskHead(model: source, head: taskHead).outputs(encoderInput, encoderOutput: sourceOutput)
        }

        var cosines: [Double] = []
        // An encoder-decoder LSG encoder passing its global tokens to the decoder has them in front.
        let lsgStates = Array(lsgOutput.lastHiddenState.dropFirst(lsgOutput.leadingGlobalTokens * h))
        for token in 1..<input.count {
            cosines.append(Self.cosine(lsgStates, sourceOutput.lastHiddenState, offset: token * h, count: h))
        }
        meanCosine = cosines.reduce(0, +) / Double(cosines.count)
        minimumCosine = cosines.min() ?? 1
        maskedPositions = masked
        if let lsgLogits = lsgOutput.logits, let sourceLogits = sourceOutput.logits, !masked.isEmpty,
           lsgConfiguration.vocabSize == sourceConfiguration.vocabSize {
            let v = lsgConfiguration.vocabSize
            let lsgTop1 = (0..<masked.count).map { Self.argmax(lsgLogits, offset: $0 * v, count: v) }
            let sourceTop1 = (0..<masked.count).map { Self.argmax(sourceLogits, offset: $0 * v, count: v) }
            top1Agreement = Double(zip(lsgTop1, sourceTop1).filter { $0 == $1 }.count) / Double(masked.count)
            lsgTop1Accuracy = Double(zip(lsgTop1, masked).filter { $0 == ids[$1] }.count) / Double(masked.count)
        } else {
            top1Agreement = nil
            lsgTop1Accuracy = nil
        }
        head = taskHead.flatMap { head in
            Self.compare(head, lsgOutput, sourceOutput, tokens: input.count)
        }
        decoder = try Self.compareDecoders(lsg: lsg, source: source, lsgOverrides: covering, encoderInput: encoderInput,
                                           lsgOutput: lsgOutput, sourceOutput: sourceOutput, probe: input)
    }

    /// Both decoders' logits on `[decoder start] + probe[..<decoderPositions - 1]`, when both
    /// models are generation classes of an encoder-decoder family.
    private static func compareDecoders(
        lsg: ModelDirectory, source: ModelDirectory, lsgOverrides: LSGOverrides, encoderInput: EncoderInput,
        lsgOutput: EncoderOutput, sourceOutput: EncoderOutput, probe: [Int]
    ) throws -> DecoderComparison? {
        let generating = [lsg, source].allSatisfy { model in
            model.config.family?.facts.encoderDecoder != nil && model.config.namedArchitecture?.head == .conditionalGeneration
        }
        guard generating else { return nil }
        // transformers starts with decoder_start_token_id (mBART has none: its eos stands in).
        guard let start = lsg.config["decoder_start_token_id"]?.intValue ?? lsg.config.eosTokenId else { return nil }
        let ids = [start] + probe.prefix(decoderPositions - 1)
        let input = try DecoderInput(ids: ids.map(Int64.init), batchSize: 1, length: ids.count)
        let lsgLogits = try Seq2SeqDecoder(model: lsg, overrides: lsgOverrides)
            .logits(input, encoderInput: encoderInput, encoderOutput: lsgOutput)
        let sourceLogits = try Seq2SeqDecoder(model: source).logits(input, encoderInput: encoderInput, encoderOutput: sourceOutput)
        guard lsgLogits.count == sourceLogits.count, !lsgLogits.isEmpty else { return nil }
        let vocabulary = lsgLogits.count / ids.count
        var maxDifference = 0.0
        for (a, b) in zip(lsgLogits, sourceLogits) { maxDifference = max(maxDifference, abs(Double(a) - Double(b))) }
        let agreeing = (0..<ids.count).filter { position in
            argmax(lsgLogits, offset: position * vocabulary, count: vocabulary)
                == argmax(sourceLogits, offset: position * vocabulary, count: vocabulary)
        }.count
        return DecoderComparison(maxDifference: maxDifference, top1Agreement: Double(agreeing) / Double(ids.count),
                                 positions: ids.count)
    }

    /// `overrides` with blocks of at least half the probe (a multiple of the sparsity factor, as
    /// block sizes must be), when the model's blocks are smaller.
    static func covering(_ overrides: LSGOverrides, configuration: EncoderConfiguration, length: Int) -> LSGOverrides {
        guard let lsg = configuration.lsg, 2 * lsg.blockSize < length else { return overrides }
        let factor = max(1, lsg.sparsityFactor)
        let half = (length + 1) / 2
        let block = (half + factor - 1) / factor * factor
        var covering = overrides
        covering[.blockSize] = .integer(block)
        covering[.sparseBlockSize] = .integer(block)
        return covering
    }

    /// The text's ids with the tokenizer's special tokens, the text repeated until it fills `length`.
    static func probeIDs(_ text: String, tokenizer: Tokenizer, length: Int) throws -> [Int] {
        let once = try tokenizer.encode(text, addSpecialTokens: false).ids
        guard !once.isEmpty else { throw LSGError(.invalidInput, "the probe text has no tokens") }
        var repeated = text
        var count = once.count
        while count < length {
            repeated += " " + text
            count += once.count + 1
        }
        var options = TokenizeOptions()
        options.maxLength = length
        options.truncation = true
        guard let encoding = try tokenizer.encode(batch: [repeated], options: options).first else {
            throw LSGError(.internal, "the tokenizer returned no encoding")
        }
        return encoding.ids
    }

    /// The model's outputs on the probe, with `head`, else with the MLM head when asked for and the
    /// model has one, else without a head.
    private static func run(
        _ model: ModelDirectory, overrides: LSGOverrides, head: EncoderHead?, wantsMLM: Bool, _ input: EncoderInput,
        _ options: EncodeOptions
    ) throws -> EncoderOutput {
        let encoder: Encoder
        if let head {
            encoder = try Encoder(model: model, overrides: overrides, heads: [head])
        } else if wantsMLM, let withMLM = try? Encoder(model: model, overrides: overrides, heads: [.mlm]) {
            encoder = withMLM
        } else {
            encoder = try Encoder(model: model, overrides: overrides)
        }
        var options = options
        if !encoder.heads.contains(.mlm) { options.maskedLMRows = nil }
        return try encoder.encode(input, options: options)
    }

    private static func compare(_ head: EncoderHead, _ lsg: EncoderOutput, _ source: EncoderOutput, tokens: Int) -> HeadComparison? {
        var maxDifference = 0.0
        var agreeing = 0
        var compared = 0
        for (name, shape, lsgValues) in lsg.taskOutputs {
            guard let sourceValues = source.taskOutputs.first(where: { $0.name == name })?.values,
                  sourceValues.count == lsgValues.count, let width = shape.last, width > 0 else { return nil }
            for (a, b) in zip(lsgValues, sourceValues) { maxDifference = max(maxDifference, abs(Double(a) - Double(b))) }
            // Question answering's start and end logits run over the tokens; the others over labels.
            let row = head == .questionAnswering ? tokens : width
            for offset in stride(from: 0, to: lsgValues.count, by: row) {
                compared += 1
                if argmax(lsgValues, offset: offset, count: row) == argmax(sourceValues, offset: offset, count: row) { agreeing += 1 }
            }
        }
        guard compared > 0 else { return nil }
        return HeadComparison(head: head, maxDifference: maxDifference, argmaxAgreement: Double(agreeing) / Double(compared),
                              compared: compared)
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
    public func failures(
        minimumMeanCosine: Double?, minimumTokenCosine: Double? = nil, minimumTop1Agreement: Double?,
        minimumDecoderAgreement: Double? = defaultMinimumDecoderAgreement
    ) -> [String] {
        var failures: [String] = []
        if let minimumDecoderAgreement, let decoder, decoder.top1Agreement < minimumDecoderAgreement {
            failures.append("the decoders' next-token agreement \(Self.percent(decoder.top1Agreement)) is below \(Self.percent(minimumDecoderAgreement))")
        }
        if let minimumMeanCosine, meanCosine < minimumMeanCosine {
            failures.append("mean cosine similarity \(String(format: "%.6f", meanCosine)) is below \(minimumMeanCosine)")
        }
        if let minimumTokenCosine, minimumCosine < minimumTokenCosine {
            failures.append("the least similar token's cosine similarity \(String(format: "%.6f", minimumCosine)) is below \(minimumTokenCosine)")
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
        var line = "parity with the source on \(length) tokens of \(textOrigin): hidden-state cosine mean \(String(format: "%.6f", meanCosine)), min \(String(format: "%.6f", minimumCosine))"
        if let top1Agreement, let lsgTop1Accuracy {
            line += ", MLM top-1 agreement \(Self.percent(top1Agreement)) of \(maskedPositions.count) masked words (LSG recovers \(Self.percent(lsgTop1Accuracy)))"
        }
        if let decoder {
            line += ", decoder next-token agreement \(Self.percent(decoder.top1Agreement)) of \(decoder.positions) (logits max difference \(String(format: "%.2e", decoder.maxDifference)))"
        }
        if let head {
            line += ", \(head.head.rawValue) logits max difference \(String(format: "%.2e", head.maxDifference)), argmax agreement \(Self.percent(head.argmaxAgreement)) of \(head.compared)"
        }
        return line
    }

    public var text: String {
        var lines = ["Comparing with the source model on \(length) tokens of \(textOrigin) (blocks covering the probe; first token excluded):"]
        lines.append("\t-hidden states: cosine similarity mean \(String(format: "%.6f", meanCosine)), min \(String(format: "%.6f", minimumCosine))")
        if let top1Agreement, let lsgTop1Accuracy {
            lines.append("\t-MLM top-1 agreement: \(Self.percent(top1Agreement)) of \(maskedPositions.count) masked words (one in \(Self.maskStride)); the LSG model recovers \(Self.percent(lsgTop1Accuracy)) of them")
        } else if head == nil {
            lines.append("\t-MLM top-1 agreement: not measured (a model has no MLM head, or the tokenizer no mask token)")
        }
        if let decoder {
            lines.append("\t-decoder (teacher-forced on the probe's first \(decoder.positions) tokens): next-token agreement \(Self.percent(decoder.top1Agreement)), logits max difference \(String(format: "%.2e", decoder.maxDifference))")
        }
        if let head {
            lines.append("\t-\(head.head.rawValue): logits max difference \(String(format: "%.2e", head.maxDifference)), argmax agreement \(Self.percent(head.argmaxAgreement)) of \(head.compared)")
        }
        return lines.joined(separator: "\n")
    }

    /// Defaults that a correct conversion meets and a broken one misses (measured on the fixtures
    /// and the real all-MiniLM-L6-v2; see docs/validation.md): correct conversions give a mean of
    /// at least 0.993 and a least-similar token of at least 0.979; a position table shifted by two
    /// rows, a shifted vocabulary or swapped layers give a least-similar token of at most 0.94.
    public static let defaultMinimumMeanCosine = 0.95
    public static let defaultMinimumTokenCosine = 0.9
    /// Correct BART, mBART, BARThez and Pegasus conversions agree on every one of the 64 decoder
    /// positions; a decoder position table shifted by two rows, two decoder layers swapped or a
    /// cross-attention norm lost agree on at most 56 % while the encoder states stay identical.
    public static let defaultMinimumDecoderAgreement = 0.9

    static func percent(_ fraction: Double) -> String { String(format: "%.2f %%", fraction * 100) }
}
