import Checkpoint
import LSGErrors
import Parallel

/// The encoder of one checkpoint: LSG attention when the configuration has LSG settings,
/// plain full attention otherwise. Immutable; `encode` may run concurrently.
public final class Encoder: Sendable {
    public let configuration: EncoderConfiguration
    public let heads: Set<EncoderHead>
    let weights: EncoderWeights

    /// Largest row count per work item of the dense layers (big enough for OpenBLAS to run
    /// near its peak).
    static let maxRowTile = 1024
    /// Row tiles come in multiples of this count, so 1, 2 or 4 workers get equal shares.
    static let tileGranularity = 4
    /// Fewest rows per work item when a short sequence is split so that every worker gets a share.
    static let minRowTile = 64
    /// Vocabulary columns per work item of the MLM decoder.
    static let vocabularyTile = 4096

    public init(configuration: EncoderConfiguration, weights source: any WeightSource, heads: Set<EncoderHead> = []) throws {
        self.configuration = configuration
        self.heads = heads
        weights = try EncoderWeights(source: source, configuration: configuration, heads: heads)
    }

    /// The encoder of a model directory, with LSG overrides applied to its configuration.
    public convenience init(model: ModelDirectory, overrides: LSGOverrides = LSGOverrides(), heads: Set<EncoderHead> = []) throws {
        try self.init(configuration: EncoderConfiguration(model: model, overrides: overrides), weights: model.tensors, heads: heads)
    }

    public func encode(_ input: EncoderInput, options: EncodeOptions = EncodeOptions()) throws -> EncoderOutput {
        BLAS.useCallerThreadOnly()
        let config = configuration
        try checkTokens(input)
        if let bad = options.maskedLMRows?.first(where: { !(0..<(input.batchSize * input.length)).contains($0) }) {
            throw LSGError(.invalidInput, "MLM logits asked for row \(bad), outside the \(input.batchSize * input.length) rows of the batch")
        }
        let layout = try AttentionLayout(configuration: config, length: input.length)
        // The encoder-decoder families embed their adaptive padding rows at their own positions.
        if config.isEncoderDecoder, layout.tokenCount > config.maxPositionEmbeddings {
            throw LSGError(.limitExceeded, "input length \(input.length) pads to \(layout.tokenCount) tokens (a multiple of block_size), beyond the model's \(config.maxPositionEmbeddings) positions")
        }
        let parallel = Parallel(workers: options.threads)
        let projections = try lshProjections(layout, options.lshProjections)
        let normChoices = try normSelectionBuffers(layout, batchSize: input.batchSize, recorded: options.normSelections)

        let h = config.hiddenSize
        let length = input.length
        let keptGlobals = config.leadingGlobalTokens
        let outputLength = keptGlobals + length
        var hiddenStates = [Float](repeating: 0, count: input.batchSize * outputLength * h)
        let buffers = AttentionBuffers(layout: layout)
        let qkvWeight = FloatBuffer(count: 3 * h * h)
        let normed = config.normalizesBeforeSublayer ? FloatBuffer(count: layout.rows * h) : nil
        let x = FloatBuffer(count: layout.rows * h)
        let embedded = config.projectsEmbeddings ? FloatBuffer(count: layout.rows * config.embeddingSize) : x
        for sequence in 0..<input.batchSize {
            embed(input, sequence: sequence, layout: layout, into: embedded, keyMask: buffers.keyMask)
            if let projection = weights.embeddingProjection {
                let rows = weights.projectsAdaptivePadding ? layout.rows : layout.globalCount + length
                project(embedded, rows: rows, projection, into: x, totalRows: layout.rows)
            }
            for (index, layer) in weights.layers.enumerated() {
                var selection = SparseSelectionInputs(lshProjections: projections[index])
                if let choices = normChoices?[index] {
                    let perSequence = choices.count / input.batchSize
                    selection.normChoices = choices
                    selection.normOffset = sequence * perSequence
                    selection.recordedNorm = options.normSelections?.indices(layer: index, sequence: sequence, perSequence: perSequence)
                }
                forward(layer, layout: layout, x: x, buffers: buffers, qkvWeight: qkvWeight, normed: normed,
                        selection: selection, parallel: parallel)
                // Memory stays near one layer's weights; the next sequence maps them back from the page cache.
                weights.release(layer.tensors)
            }
            if let norm = weights.finalNorm {
                Self.normalize(x.base, rows: layout.rows, size: h, norm, eps: config.layerNormEps)
            }
            if let lsg = config.lsg, lsg.poolWithGlobal, keptGlobals == 0 {
                x[layout.globalCount * h].update(from: x.base, count: h)
            }
            hiddenStates.withUnsafeMutableBufferPointer { output in
                (output.baseAddress! + sequence * outputLength * h).update(
                    from: x[(layout.globalCount - keptGlobals) * h], count: outputLength * h)
            }
        }
        var output = EncoderOutput(lastHiddenState: hiddenStates)
        output.leadingGlobalTokens = keptGlobals
        output.lshProjections = projections.flatMap { $0 }.map { draw in
            (shape: [1, layout.heads, 1, layout.headSize, draw.count / (layout.heads * layout.headSize)], values: draw)
        }
        output.normSelections = normChoices?.map { Array(UnsafeBufferPointer(start: $0.base, count: $0.count)) } ?? []
        if let head = weights.maskedLM {
            // The chosen rows only, gathered, when the caller named some.
            let states = options.maskedLMRows.map { rows in
                rows.flatMap { row in hiddenStates[(row * h)..<((row + 1) * h)] }
            } ?? hiddenStates
            output.logits = maskedLMLogits(head, hiddenStates: states, rows: states.count / h, parallel: parallel)
        }
        let pooled = weights.pooler.map { pool($0, hiddenStates: hiddenStates, batchSize: input.batchSize, length: length) }
        if heads.contains(.pooler) { output.pooledOutput = pooled }
        if let head = weights.taskHead {
            let rows = try head.inputRows(of: hiddenStates, hiddenSize: h, input: input, pooledOutput: pooled)
            output.taskOutputs = head.outputs(over: rows, input: input)
        }
        weights.release(weights.allTensors)
        return output
    }

    // MARK: input checks and embeddings

    private func checkTokens(_ input: EncoderInput) throws(LSGError) {
        let config = configuration
        guard input.length <= config.maxInputLength else {
            throw LSGError(.limitExceeded, "input length \(input.length) exceeds the model's \(config.maxInputLength) positions")
        }
        if let bad = input.inputIds.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw LSGError(.invalidInput, "input_ids holds \(bad), outside the vocabulary of \(config.vocabSize)")
        }
        if input.tokenTypeIds != nil && !config.family.hasTokenTypes {
            throw LSGError(.invalidInput, "token_type_ids given, but \(config.family.rawValue) models have no token types")
        }
        if let types = input.tokenTypeIds, let bad = types.first(where: { $0 < 0 || $0 >= config.typeVocabSize }) {
            throw LSGError(.invalidInput, "token_type_ids holds \(bad), outside the \(config.typeVocabSize) token types")
        }
    }

    /// Word + token type + position embeddings of the tokens, the global rows in front,
    /// LayerNorm over both; rows added by adaptive padding stay zero and masked. Rows are
    /// `embeddingSize` wide. The encoder-decoder families scale the word embeddings, count
    /// positions from the first token, and pad the ids rather than the embeddings: their
    /// adaptive padding rows are embedded pad tokens (masked all the same).
    private func embed(
        _ input: EncoderInput, sequence: Int, layout: AttentionLayout, into x: FloatBuffer, keyMask: FloatBuffer
    ) {
        let config = configuration
        let h = config.embeddingSize
        let g = layout.globalCount
        let first = sequence * input.length
        x.base.update(repeating: 0, count: layout.rows * h)
        keyMask.base.update(repeating: SparseSelection.maskValue, count: layout.rows)
        keyMask.base.update(repeating: 0, count: g)
        x.base.update(from: weights.globalEmbeddings.pointer, count: g * h)
        let paddedIds = config.isEncoderDecoder
        let usesPaddingAwarePositions = config.family.positionOffset > 0 && !paddedIds
        let embeddedTokens = paddedIds ? layout.tokenCount : input.length
        var seen = 0
        for token in 0..<embeddedTokens {
            let isInput = token < input.length
            let id = isInput ? Int(input.inputIds[first + token]) : config.padTokenId
            let type = Int(input.tokenTypeIds?[first + token] ?? 0)
            let position: Int
            if paddedIds {
                position = token + config.family.positionOffset
            } else if usesPaddingAwarePositions {
                if id == config.padTokenId {
                    position = config.padTokenId
                } else {
                    seen += 1
                    position = config.padTokenId + seen
                }
            } else {
                position = token
            }
            let row = x[(g + token) * h]
            let word = weights.wordEmbeddings.pointer + id * h
            let positionRow = weights.positionEmbeddings.pointer + position * h
            if let types = weights.tokenTypeEmbeddings {
                let typeRow = types.pointer + type * h
                for i in 0..<h { row[i] = (word[i] + typeRow[i]) + positionRow[i] }
            } else if paddedIds {
                let scale = config.embeddingScale
                for i in 0..<h { row[i] = word[i] * scale + positionRow[i] }
            } else {
                for i in 0..<h { row[i] = word[i] + positionRow[i] }
            }
            guard isInput else { continue }
            let present = input.attentionMask?[first + token] ?? 1
            keyMask.base[g + token] = Float(1 - present) * SparseSelection.maskValue
        }
        if let lsg = config.lsg, lsg.maskFirstToken { keyMask.base[g] = SparseSelection.maskValue }
        if let norm = weights.embeddingNorm {
            Self.normalize(x.base, rows: g + embeddedTokens, size: h, norm, eps: config.layerNormEps)
        }
    }

    /// The map to the hidden size of the first `rows` embedded rows into `x`; the rest of `x`
    /// (adaptive padding that ELECTRA adds after its `embeddings_project`) is zero.
    private func project(
        _ embedded: FloatBuffer, rows: Int, _ projection: EncoderWeights.Linear, into x: FloatBuffer, totalRows: Int
    ) {
        let h = configuration.hiddenSize
        let e = configuration.embeddingSize
        x.base.update(repeating: 0, count: totalRows * h)
        Self.dense(projection.weight, projection.bias, rows: rows, x: embedded.base, inputSize: e, outputSize: h, y: x.base)
    }

    /// Per layer, a buffer for the `norm` choices of every sequence (`[batch, heads, count]`), or
    /// nil when the layout does not select by norm; a recording to replay is checked against it.
    private func normSelectionBuffers(
        _ layout: AttentionLayout, batchSize: Int, recorded: RecordedNormSelections?
    ) throws -> [SharedBuffer<Int64>]? {
        guard case .blocks(let blocks) = layout.mode, let sparse = blocks.sparse,
              case .norm(let chunk, let keep) = sparse.selection else {
            if let recorded {
                throw LSGError(.invalidInput, "\(recorded.source): norm selections were given, but this model does not select sparse tokens by norm for this input")
            }
            return nil
        }
        try recorded?.check(layerCount: weights.layers.count, batchSize: batchSize, heads: layout.heads,
                            perHead: sparse.count, chunk: chunk, keep: keep)
        return weights.layers.map { _ in SharedBuffer(count: batchSize * layout.heads * sparse.count) }
    }

    /// One draw list per layer (empty unless `lsh` hashing runs), drawn in the reference's order.
    private func lshProjections(_ layout: AttentionLayout, _ source: LSHProjectionSource) throws -> [[[Float]]] {
        let layers = weights.layers.count
        guard case .blocks(let blocks) = layout.mode, let sparse = blocks.sparse,
              case .lsh(_, let bucketCounts) = sparse.selection else {
            return Array(repeating: [], count: layers)
        }
        var stream = LSHProjectionStream(source)
        return try (0..<layers).map { _ in
            try bucketCounts.map { buckets in
                try stream.next(heads: layout.heads, headSize: layout.headSize, hashes: buckets / 2)
            }
        }
    }

    // MARK: layers

    /// Attention, then the feed-forward block, each with its residual and LayerNorm (on the sum,
    /// or on the sublayer's input when the family normalises first); `x` is updated in place.
    /// `qkvWeight` is room for the stacked query, key and value weights; `normed` for the
    /// normalised input of a family that normalises first.
    private func forward(
        _ layer: EncoderWeights.Layer, layout: AttentionLayout, x: FloatBuffer, buffers: AttentionBuffers,
        qkvWeight: FloatBuffer, normed: FloatBuffer?, selection: SparseSelectionInputs, parallel: Parallel
    ) {
        let config = configuration
        let h = config.hiddenSize
        let intermediate = config.intermediateSize
        let rows = layout.rows
        let rowTile = Self.rowTile(rows: rows)
        let tiles = (rows + rowTile - 1) / rowTile
        for (index, part) in [layer.queryWeight, layer.keyWeight, layer.valueWeight].enumerated() {
            qkvWeight[index * h * h].update(from: part.pointer, count: h * h)
        }
        let stacked = WeightTensor(pointer: UnsafePointer(qkvWeight.base), count: 3 * h * h)
        let eps = config.layerNormEps
        parallel.forEach(tiles) { tile in
            let first = tile * rowTile
            let count = min(rowTile, rows - first)
            var input = x[first * h]
            if let normed {
                input = normed[first * h]
                input.update(from: x[first * h], count: count * h)
                Self.normalize(input, rows: count, size: h, layer.attentionNorm, eps: eps)
            }
            Self.dense(stacked, layer.qkvBias, rows: count, x: input, inputSize: h, outputSize: 3 * h,
                       y: buffers.qkv[first * 3 * h])
        }
        SelfAttention(layout: layout, parallel: parallel).run(buffers, selection: selection)
        let activation = config.hiddenAct
        let normsFirst = normed != nil
        let scratchSize = rowTile * (h + intermediate + (normsFirst ? h : 0))
        parallel.forEach(tiles, scratch: { FloatBuffer(count: scratchSize) }) { tile, scratch in
            let first = tile * rowTile
            let count = min(rowTile, rows - first)
            let attended = scratch.base
            let hidden = scratch[rowTile * h]
            Self.dense(layer.attentionOutputWeight, layer.attentionOutputBias, rows: count,
                       x: buffers.context[first * h], inputSize: h, outputSize: h, y: attended)
            VectorMath.add(x[first * h], to: attended, count: count * h)
            var feedForwardInput = attended
            if normsFirst {
                feedForwardInput = scratch[rowTile * (h + intermediate)]
                feedForwardInput.update(from: attended, count: count * h)
                Self.normalize(feedForwardInput, rows: count, size: h, layer.outputNorm, eps: eps)
            } else {
                Self.normalize(attended, rows: count, size: h, layer.attentionNorm, eps: eps)
            }
            Self.dense(layer.intermediateWeight, layer.intermediateBias, rows: count,
                       x: feedForwardInput, inputSize: h, outputSize: intermediate, y: hidden)
            VectorMath.apply(activation, hidden, count: count * intermediate)
            let output = x[first * h]
            Self.dense(layer.outputWeight, layer.outputBias, rows: count,
                       x: hidden, inputSize: intermediate, outputSize: h, y: output)
            VectorMath.add(attended, to: output, count: count * h)
            if !normsFirst { Self.normalize(output, rows: count, size: h, layer.outputNorm, eps: eps) }
        }
    }

    /// Rows per dense-layer work item for `rows` rows: a function of the size alone, so the
    /// same products run whatever the thread count.
    static func rowTile(rows: Int) -> Int {
        var tiles = (rows + maxRowTile - 1) / maxRowTile
        // A sequence of at most maxRowTile rows is still split (the source model in the parity
        // probe runs 512 rows), or one worker would do all its dense work.
        tiles = max(tiles, min(tileGranularity, rows / minRowTile))
        if tiles > 1 { tiles = (tiles + tileGranularity - 1) / tileGranularity * tileGranularity }
        return max(1, (rows + tiles - 1) / tiles)
    }

    static func dense(
        _ weight: WeightTensor, _ bias: WeightTensor, rows: Int, x: UnsafePointer<Float>, inputSize: Int,
        outputSize: Int, y: UnsafeMutablePointer<Float>
    ) {
        BLAS.linear(
            rows: rows, x: x, ldx: inputSize, weight: weight.pointer, bias: bias.pointer, inputSize: inputSize,
            outputSize: outputSize, y: y, ldy: outputSize)
    }

    static func normalize(
        _ rows: UnsafeMutablePointer<Float>, rows count: Int, size: Int, _ norm: EncoderWeights.Norm, eps: Float
    ) {
        for row in 0..<count {
            VectorMath.layerNorm(rows + row * size, count: size, weight: norm.weight.pointer, bias: norm.bias.pointer, eps: eps)
        }
    }

    // MARK: heads

    /// dense → activation → LayerNorm → decoder (+ bias), for every output row.
    private func maskedLMLogits(
        _ head: EncoderWeights.MaskedLMHead, hiddenStates: [Float], rows: Int, parallel: Parallel
    ) -> [Float] {
        let config = configuration
        let h = config.hiddenSize
        let w = head.width
        let vocabulary = config.vocabSize
        let transformed = FloatBuffer(count: rows * w)
        let rowTile = Self.rowTile(rows: rows)
        let tiles = (rows + rowTile - 1) / rowTile
        hiddenStates.withUnsafeBufferPointer { states in
            let shared = SharedPointer(UnsafeMutablePointer(mutating: states.baseAddress!))
            parallel.forEach(tiles) { tile in
                let first = tile * rowTile
                let count = min(rowTile, rows - first)
                let y = transformed[first * w]
                Self.dense(head.denseWeight, head.denseBias, rows: count, x: shared.pointer + first * h,
                           inputSize: h, outputSize: w, y: y)
                VectorMath.apply(head.activation, y, count: count * w)
                Self.normalize(y, rows: count, size: w, head.norm, eps: config.layerNormEps)
            }
        }
        let vocabularyTiles = (vocabulary + Self.vocabularyTile - 1) / Self.vocabularyTile
        return [Float](unsafeUninitializedCapacity: rows * vocabulary) { buffer, initialized in
            let logits = SharedPointer(buffer.baseAddress!)
            parallel.forEach(tiles * vocabularyTiles) { item in
                let first = (item / vocabularyTiles) * rowTile
                let count = min(rowTile, rows - first)
                let firstWord = (item % vocabularyTiles) * Self.vocabularyTile
                let words = min(Self.vocabularyTile, vocabulary - firstWord)
                BLAS.linear(
                    rows: count, x: transformed[first * w], ldx: w, weight: head.decoderWeight.pointer + firstWord * w,
                    bias: head.decoderBias.pointer + firstWord, inputSize: w, outputSize: words,
                    y: logits.pointer + first * vocabulary + firstWord, ldy: vocabulary)
            }
            initialized = rows * vocabulary
        }
    }

    /// tanh(dense(first token)) per sequence.
    private func pool(_ pooler: EncoderWeights.Pooler, hiddenStates: [Float], batchSize: Int, length: Int) -> [Float] {
        let h = configuration.hiddenSize
        var pooled = [Float](repeating: 0, count: batchSize * h)
        for sequence in 0..<batchSize {
            for out in 0..<h {
                var sum: Float = 0
                for i in 0..<h { sum += pooler.weight[out * h + i] * hiddenStates[sequence * length * h + i] }
                pooled[sequence * h + out] = VectorMath.tanh(sum + pooler.bias[out])
            }
        }
        return pooled
    }
}

/// A pointer handed to parallel workers that only read it, or write disjoint parts.
struct SharedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
