import Checkpoint
import LSGErrors

/// Token ids fed to the decoder (teacher forcing), row-major `[batchSize, length]`.
public struct DecoderInput: Sendable {
    public let batchSize: Int
    public let length: Int
    public let ids: [Int64]

    public init(ids: [Int64], batchSize: Int, length: Int) throws(LSGError) {
        guard batchSize > 0, length > 0, ids.count == batchSize * length else {
            throw LSGError(.invalidInput, "decoder_input_ids holds \(ids.count) values, expected a positive [\(batchSize), \(length)]")
        }
        self.batchSize = batchSize
        self.length = length
        self.ids = ids
    }
}

/// The decoder of an encoder-decoder model (transformers' `BartDecoder`, `MBartDecoder`,
/// `PegasusDecoder`, which the LSG models keep), optionally with its language-model head: causal
/// self-attention, cross-attention over the LSG encoder's output, feed-forward, giving the last
/// hidden state; then `logits = hidden · lm_head^T + final_logits_bias`. No cache: each call runs
/// every position.
public final class Seq2SeqDecoder: Sendable {
    public let configuration: EncoderConfiguration
    public let sizes: DecoderSizes
    let weights: DecoderWeights

    /// `withLanguageModelHead: false` loads the decoder alone, for a class without the generation
    /// head (its `logits` then fail; `lastHiddenState` runs).
    public init(configuration: EncoderConfiguration, weights source: any WeightSource, withLanguageModelHead: Bool = true) throws {
        guard let sizes = configuration.decoder else {
            throw LSGError(.unsupported, "\(source.sourceName): \(configuration.family.rawValue) models have no decoder")
        }
        self.configuration = configuration
        self.sizes = sizes
        weights = try DecoderWeights(source: source, configuration: configuration, sizes: sizes,
                                     withLanguageModelHead: withLanguageModelHead)
    }

    /// The decoder of a model directory, with LSG overrides applied to its configuration (they
    /// change what the encoder passes on: `pass_global_tokens_to_decoder`, `mask_first_token`).
    public convenience init(model: ModelDirectory, overrides: LSGOverrides = LSGOverrides(), withLanguageModelHead: Bool = true) throws {
        try self.init(configuration: EncoderConfiguration(model: model, overrides: overrides), weights: model.tensors,
                      withLanguageModelHead: withLanguageModelHead)
    }

    /// The logits `[batch, length, vocab]` of `input` given the encoder's `encoderOutput` for
    /// `encoderInput`, as `LSG*ForConditionalGeneration(input_ids, attention_mask, decoder_input_ids)`
    /// computes them: the language-model head over `lastHiddenState`.
    public func logits(_ input: DecoderInput, encoderInput: EncoderInput, encoderOutput: EncoderOutput) throws -> [Float] {
        guard let head = weights.languageModelHead else {
            throw LSGError(.internal, "the decoder was loaded without its language-model head; it gives no logits")
        }
        let states = try lastHiddenState(input, encoderInput: encoderInput, encoderOutput: encoderOutput)
        let h = configuration.hiddenSize
        let vocabulary = configuration.vocabSize
        let rows = input.batchSize * input.length
        var logits = [Float](repeating: 0, count: rows * vocabulary)
        states.withUnsafeBufferPointer { x in
            logits.withUnsafeMutableBufferPointer { output in
                BLAS.linear(rows: rows, x: x.baseAddress!, ldx: h, weight: head.weight.pointer, bias: head.finalLogitsBias.pointer,
                            inputSize: h, outputSize: vocabulary, y: output.baseAddress!, ldy: vocabulary)
            }
        }
        return logits
    }

    /// The decoder's last hidden state `[batch, length, hidden]` (after the final LayerNorm where
    /// the family has one), what `LSG*Model(...).last_hidden_state` returns and the heads read.
    public func lastHiddenState(_ input: DecoderInput, encoderInput: EncoderInput, encoderOutput: EncoderOutput) throws -> [Float] {
        BLAS.useCallerThreadOnly()
        let config = configuration
        let h = config.hiddenSize
        let vocabulary = config.vocabSize
        guard input.batchSize == encoderInput.batchSize else {
            throw LSGError(.invalidInput, "decoder_input_ids has \(input.batchSize) rows, the encoder input \(encoderInput.batchSize)")
        }
        guard input.length <= config.maxPositionEmbeddings else {
            throw LSGError(.limitExceeded, "decoder input length \(input.length) exceeds the model's \(config.maxPositionEmbeddings) positions")
        }
        if let bad = input.ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
            throw LSGError(.invalidInput, "decoder_input_ids holds \(bad), outside the vocabulary of \(vocabulary)")
        }
        let sourceRows = encoderOutput.leadingGlobalTokens + encoderInput.length
        guard encoderOutput.lastHiddenState.count == input.batchSize * sourceRows * h else {
            throw LSGError(.internal, "the encoder output does not hold [\(input.batchSize), \(sourceRows), \(h)] states")
        }
        let causalMask = (0..<(input.length * input.length)).map { index in
            index % input.length > index / input.length ? SparseSelection.maskValue : 0
        }
        var states = [Float](repeating: 0, count: input.batchSize * input.length * h)
        for sequence in 0..<input.batchSize {
            let x = embed(input, sequence: sequence)
            let keyMask = crossAttentionKeyMask(encoderInput, leadingGlobalTokens: encoderOutput.leadingGlobalTokens,
                                                sequence: sequence)
            let crossMask = (0..<input.length).flatMap { _ in keyMask }
            encoderOutput.lastHiddenState.withUnsafeBufferPointer { states in
                let source = states.baseAddress! + sequence * sourceRows * h
                for layer in weights.layers {
                    attend(x, rows: input.length, source: nil, sourceRows: input.length, layer.selfAttention,
                           norm: layer.selfAttentionNorm, mask: causalMask)
                    attend(x, rows: input.length, source: source, sourceRows: sourceRows, layer.crossAttention,
                           norm: layer.crossAttentionNorm, mask: crossMask)
                    feedForward(x, rows: input.length, layer)
                }
            }
            if let norm = weights.finalNorm {
                Encoder.normalize(x.base, rows: input.length, size: h, norm, eps: config.layerNormEps)
            }
            states.withUnsafeMutableBufferPointer { output in
                (output.baseAddress! + sequence * input.length * h).update(from: x.base, count: input.length * h)
            }
        }
        return states
    }

    /// Scaled word embeddings plus positions (counted from the first token), normalised when the
    /// family normalises its embeddings.
    private func embed(_ input: DecoderInput, sequence: Int) -> FloatBuffer {
        let config = configuration
        let h = config.hiddenSize
        let x = FloatBuffer(count: input.length * h)
        for token in 0..<input.length {
            let word = weights.wordEmbeddings.pointer + Int(input.ids[sequence * input.length + token]) * h
            let position = weights.positionEmbeddings.pointer + (token + config.family.positionOffset) * h
            let row = x[token * h]
            for i in 0..<h { row[i] = word[i] * config.embeddingScale + position[i] }
        }
        if let norm = weights.embeddingNorm {
            Encoder.normalize(x.base, rows: input.length, size: h, norm, eps: config.layerNormEps)
        }
        return x
    }

    /// The additive mask over the encoder's rows: the attention mask, its first token masked
    /// too with `mask_first_token` (the reference writes that into the caller's mask, which the
    /// decoder then reads), behind one visible column per global token passed on. Without an
    /// attention mask the reference gives the decoder none, so every row is visible.
    private func crossAttentionKeyMask(_ input: EncoderInput, leadingGlobalTokens: Int, sequence: Int) -> [Float] {
        guard let mask = input.attentionMask else {
            return Array(repeating: 0, count: leadingGlobalTokens + input.length)
        }
        var present = Array(mask[(sequence * input.length)..<((sequence + 1) * input.length)])
        if configuration.lsg?.maskFirstToken == true { present[0] = 0 }
        return Array(repeating: 0, count: leadingGlobalTokens) + present.map { $0 == 1 ? 0 : SparseSelection.maskValue }
    }

    /// One attention sublayer with its residual and LayerNorm, `x` updated in place: over `x`
    /// itself when `source` is nil, else over the `sourceRows` rows of `source`.
    private func attend(
        _ x: FloatBuffer, rows: Int, source: UnsafePointer<Float>?, sourceRows: Int, _ attention: DecoderWeights.Attention,
        norm: EncoderWeights.Norm, mask: [Float]
    ) {
        let h = configuration.hiddenSize
        let input = sublayerInput(x, rows: rows, norm: norm)
        let keySource = source ?? UnsafePointer(input.base)
        let queries = FloatBuffer(count: rows * h)
        let keys = FloatBuffer(count: sourceRows * h)
        let values = FloatBuffer(count: sourceRows * h)
        let context = FloatBuffer(count: rows * h)
        Encoder.dense(attention.query.weight, attention.query.bias, rows: rows, x: input.base, inputSize: h, outputSize: h,
                      y: queries.base)
        Encoder.dense(attention.key.weight, attention.key.bias, rows: sourceRows, x: keySource, inputSize: h, outputSize: h,
                      y: keys.base)
        Encoder.dense(attention.value.weight, attention.value.bias, rows: sourceRows, x: keySource, inputSize: h,
                      outputSize: h, y: values.base)
        DenseAttention.run(queries: queries.base, keys: keys.base, values: values.base, queryRows: rows, keyRows: sourceRows,
                           heads: sizes.attentionHeads, headSize: h / sizes.attentionHeads, mask: mask, into: context.base)
        residual(x, rows: rows, norm: norm) { output in
            Encoder.dense(attention.output.weight, attention.output.bias, rows: rows, x: context.base, inputSize: h,
                          outputSize: h, y: output)
        }
    }

    /// fc1 → activation → fc2 with its residual and LayerNorm, `x` updated in place.
    private func feedForward(_ x: FloatBuffer, rows: Int, _ layer: DecoderWeights.Layer) {
        let h = configuration.hiddenSize
        let f = sizes.feedForward
        let input = sublayerInput(x, rows: rows, norm: layer.outputNorm)
        let hidden = FloatBuffer(count: rows * f)
        Encoder.dense(layer.intermediate.weight, layer.intermediate.bias, rows: rows, x: input.base, inputSize: h,
                      outputSize: f, y: hidden.base)
        VectorMath.apply(configuration.hiddenAct, hidden.base, count: rows * f)
        residual(x, rows: rows, norm: layer.outputNorm) { output in
            Encoder.dense(layer.output.weight, layer.output.bias, rows: rows, x: hidden.base, inputSize: f, outputSize: h,
                          y: output)
        }
    }

    /// What a sublayer reads: `x` normalised when the family normalises first, else `x` itself.
    private func sublayerInput(_ x: FloatBuffer, rows: Int, norm: EncoderWeights.Norm) -> FloatBuffer {
        guard configuration.normalizesBeforeSublayer else { return x }
        let h = configuration.hiddenSize
        let normed = FloatBuffer(count: rows * h)
        normed.base.update(from: x.base, count: rows * h)
        Encoder.normalize(normed.base, rows: rows, size: h, norm, eps: configuration.layerNormEps)
        return normed
    }

    /// `x = x + sublayer`, normalised afterwards when the family normalises the sum.
    private func residual(
        _ x: FloatBuffer, rows: Int, norm: EncoderWeights.Norm, _ sublayer: (UnsafeMutablePointer<Float>) -> Void
    ) {
        let h = configuration.hiddenSize
        let output = FloatBuffer(count: rows * h)
        sublayer(output.base)
        VectorMath.add(output.base, to: x.base, count: rows * h)
        if !configuration.normalizesBeforeSublayer {
            Encoder.normalize(x.base, rows: rows, size: h, norm, eps: configuration.layerNormEps)
        }
    }
}
