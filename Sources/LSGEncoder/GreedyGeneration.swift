import Checkpoint
import LSGErrors

/// Greedy decoding of an encoder-decoder model as transformers 4.36.2's `generate(do_sample=False,
/// num_beams=1, max_new_tokens:)` runs it: the encoder once, then the decoder on the growing
/// prefix (rerun in full each step: no cache), the highest logit each step (the first on ties),
/// eos forced as the last token of a full-length row, pad after a row's eos, and a stop once every
/// row has its eos.
public struct GreedyGeneration: Sendable {
    public let encoder: Encoder
    public let decoder: Seq2SeqDecoder
    public let settings: GenerationConfig

    public init(encoder: Encoder, decoder: Seq2SeqDecoder, settings: GenerationConfig) {
        self.encoder = encoder
        self.decoder = decoder
        self.settings = settings
    }

    /// One row per input row: the decoder start token and up to `maxNewTokens` generated ones.
    public func generate(_ input: EncoderInput, maxNewTokens: Int, options: EncodeOptions = EncodeOptions()) throws -> [[Int64]] {
        guard maxNewTokens > 0 else { throw LSGError(.invalidOption, "max_new_tokens must be at least 1 (got \(maxNewTokens))") }
        let maxLength = 1 + maxNewTokens
        let vocabulary = decoder.configuration.vocabSize
        let encoded = try encoder.encode(input, options: options)
        var rows = Array(repeating: [Int64(settings.decoderStartTokenId)], count: input.batchSize)
        var finished = Array(repeating: false, count: input.batchSize)
        while rows[0].count < maxLength, finished.contains(false) {
            let length = rows[0].count
            let logits = try decoder.logits(
                DecoderInput(ids: Array(rows.joined()), batchSize: input.batchSize, length: length),
                encoderInput: input, encoderOutput: encoded)
            for row in rows.indices {
                let last = (row * length + length - 1) * vocabulary
                var token: Int
                if let forced = settings.forcedEOSTokenId, length == maxLength - 1 {
                    token = forced
                } else {
                    token = 0
                    for id in 1..<vocabulary where logits[last + id] > logits[last + token] { token = id }
                }
                if finished[row] { token = settings.padTokenId }
                rows[row].append(Int64(token))
                if token == settings.eosTokenId { finished[row] = true }
            }
        }
        return rows
    }
}
