import Checkpoint
import LSGErrors

/// A task head of an encoder-decoder model (transformers' `BartForSequenceClassification` and
/// `BartForQuestionAnswering`, which mBART and BARThez copy): the decoder runs on
/// `shift_tokens_right(input_ids)` over the LSG encoder's output, and the head reads the decoder's
/// last hidden state (sequence classification at each row's last eos token, question answering
/// at every token).
public struct Seq2SeqTaskHead: Sendable {
    public let head: EncoderHead
    public let decoder: Seq2SeqDecoder
    let weights: EncoderWeights.TaskHead
    let decoderStart: EncoderDecoderFacts.DecoderStart
    let decoderStartTokenId: Int?
    let eosTokenId: Int?
    let padTokenId: Int
    /// Keeps the head's mapped tensors alive.
    private let owners: WeightOwners

    public init(model: ModelDirectory, head: EncoderHead, overrides: LSGOverrides = LSGOverrides()) throws {
        let configuration = try EncoderConfiguration(model: model, overrides: overrides)
        let family = configuration.family
        let source = model.tensors
        guard let facts = family.facts.encoderDecoder else {
            throw LSGError(.unsupported, "\(source.sourceName): \(family.rawValue) models run their task heads on the encoder")
        }
        guard let taskHead = head.taskHead, family.facts.heads[taskHead]?.computation?.states == .decoder else {
            let runnable = EncoderHead.allCases.filter { $0.taskHead.flatMap { family.facts.heads[$0]?.computation?.states } == .decoder }
            let offered = runnable.isEmpty ? "they have no task head" : "their heads: " + runnable.map(\.rawValue).joined(separator: ", ")
            throw LSGError(.unsupported, "\(source.sourceName): \(family.facts.modelCard.name) models run no \(head.rawValue) head; \(offered)")
        }
        self.head = head
        decoder = try Seq2SeqDecoder(configuration: configuration, weights: source, withLanguageModelHead: false)
        owners = WeightOwners(source: source)
        weights = try WeightReader(source: source, owners: owners)
            .taskHead(head, architecture: Architecture(family: family, head: taskHead), hiddenSize: configuration.hiddenSize)
        decoderStart = facts.decoderStart
        decoderStartTokenId = model.config.decoderStartTokenId
        eosTokenId = model.config.eosTokenId
        padTokenId = configuration.padTokenId
    }

    /// The head's outputs for `input`, given the encoder's `encoderOutput` for it: `logits`
    /// `[batch, labels]`, or `start_logits` and `end_logits` `[batch, length]`.
    public func outputs(_ input: EncoderInput, encoderOutput: EncoderOutput) throws -> [(name: String, shape: [Int], values: [Float])] {
        let states = try decoder.lastHiddenState(try decoderInput(for: input), encoderInput: input, encoderOutput: encoderOutput)
        let rows = try weights.inputRows(of: states, hiddenSize: decoder.configuration.hiddenSize, input: input,
                                         eosTokenId: eosTokenId)
        return weights.outputs(over: rows, input: input)
    }

    /// `shift_tokens_right(input_ids)`: each row one token later, behind the decoder start token
    /// (mBART: the row's token at index "non-pad tokens − 1", its last one when right-padded).
    public func decoderInput(for input: EncoderInput) throws -> DecoderInput {
        let length = input.length
        var ids: [Int64] = []
        ids.reserveCapacity(input.batchSize * length)
        for row in 0..<input.batchSize {
            let tokens = input.inputIds[(row * length)..<((row + 1) * length)]
            switch decoderStart {
            case .decoderStartToken:
                guard let start = decoderStartTokenId else {
                    throw LSGError(.invalidInput, "config.json has no decoder_start_token_id; the decoder inputs cannot be made from input_ids")
                }
                ids.append(Int64(start))
            case .lastNonPadToken:
                let present = tokens.filter { $0 != Int64(padTokenId) }.count
                guard present > 0 else {
                    throw LSGError(.invalidInput, "input_ids row \(row) is all padding; the decoder starts with the row's last non-pad token")
                }
                ids.append(tokens[tokens.startIndex + present - 1])
            }
            ids += tokens.dropLast()
        }
        return try DecoderInput(ids: ids, batchSize: input.batchSize, length: length)
    }
}
