import LSGErrors

/// A batch of token ids, row-major `[batchSize, length]`, with the optional mask (1 = token,
/// 0 = padding) and token types.
public struct EncoderInput: Sendable {
    public let batchSize: Int
    public let length: Int
    public let inputIds: [Int64]
    public let attentionMask: [Int64]?
    public let tokenTypeIds: [Int64]?
    /// Rows per question of a multiple-choice batch: rows `q * choices ..< (q + 1) * choices`
    /// are the choices of question `q` (transformers' `[batch, choices, length]` flattened).
    public let choices: Int

    public init(
        inputIds: [Int64], batchSize: Int, length: Int, attentionMask: [Int64]? = nil, tokenTypeIds: [Int64]? = nil,
        choices: Int = 1
    ) throws(LSGError) {
        guard batchSize > 0, length > 0 else {
            throw LSGError(.invalidInput, "input_ids has shape [\(batchSize), \(length)]; batch and length must be positive")
        }
        guard choices > 0, batchSize % choices == 0 else {
            throw LSGError(.invalidInput, "a batch of \(batchSize) rows does not hold whole questions of \(choices) choices")
        }
        let count = batchSize * length
        guard inputIds.count == count else {
            throw LSGError(.shapeMismatch, "input_ids holds \(inputIds.count) values, expected \(count) for [\(batchSize), \(length)]")
        }
        if let attentionMask {
            guard attentionMask.count == count else {
                throw LSGError(.shapeMismatch, "attention_mask holds \(attentionMask.count) values, expected \(count) for [\(batchSize), \(length)]")
            }
            if let bad = attentionMask.first(where: { $0 != 0 && $0 != 1 }) {
                throw LSGError(.invalidInput, "attention_mask holds \(bad); only 0 (padding) and 1 (token) are allowed")
            }
        }
        if let tokenTypeIds, tokenTypeIds.count != count {
            throw LSGError(.shapeMismatch, "token_type_ids holds \(tokenTypeIds.count) values, expected \(count) for [\(batchSize), \(length)]")
        }
        self.batchSize = batchSize
        self.length = length
        self.inputIds = inputIds
        self.attentionMask = attentionMask
        self.tokenTypeIds = tokenTypeIds
        self.choices = choices
    }
}

/// The encoder's outputs for a batch, row-major.
public struct EncoderOutput: Sendable {
    /// `[batch, leadingGlobalTokens + length, hidden]`.
    public var lastHiddenState: [Float]
    /// The global tokens in front of each sequence's states (encoder-decoder models passing
    /// them to the decoder); 0 otherwise.
    public var leadingGlobalTokens = 0
    /// `[batch, length, vocab]` when the MLM head ran; `[rows, vocab]` for the rows
    /// `EncodeOptions.maskedLMRows` chose.
    public var logits: [Float]?
    /// `[batch, hidden]` when the pooler ran.
    public var pooledOutput: [Float]?
    /// The task head's outputs (`logits`, or `start_logits` and `end_logits`), shaped as
    /// transformers returns them.
    public var taskOutputs: [(name: String, shape: [Int], values: [Float])] = []
    /// The LSH projections used, in call order, shaped as the reference draws them
    /// (`[1, heads, 1, headSize, hashes]`); empty unless `lsh` hashing ran.
    public var lshProjections: [(shape: [Int], values: [Float])] = []
    /// The `norm` sparse selections made or replayed, one per layer, `[batch, heads, chunks ×
    /// keep]` token indices (see `RecordedNormSelections`); empty unless `norm` selection ran.
    public var normSelections: [[Int64]] = []

    public init(lastHiddenState: [Float], logits: [Float]? = nil, pooledOutput: [Float]? = nil) {
        self.lastHiddenState = lastHiddenState
        self.logits = logits
        self.pooledOutput = pooledOutput
    }
}

/// Run-time choices that do not change the model.
public struct EncodeOptions: Sendable {
    /// Worker threads; results are the same for any value.
    public var threads: Int
    /// Where `lsh` sparsity gets its random projections.
    public var lshProjections: LSHProjectionSource
    /// `norm` selections to replay instead of computing them.
    public var normSelections: RecordedNormSelections?
    /// The rows (`sequence * length + position`) whose MLM logits are computed, in this order;
    /// nil for every row. The vocabulary projection is most of the head's work, so a caller
    /// that reads a few positions (masks, a probe's sample) asks for those only.
    public var maskedLMRows: [Int]?

    public init(
        threads: Int = 1, lshProjections: LSHProjectionSource = .seeded(0), normSelections: RecordedNormSelections? = nil
    ) {
        self.threads = threads
        self.lshProjections = lshProjections
        self.normSelections = normSelections
    }
}
