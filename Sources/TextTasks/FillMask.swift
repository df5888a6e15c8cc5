import LSGEncoder
import LSGErrors
import Tokenizers

/// One proposal for a masked position, as transformers' `FillMaskPipeline` reports it.
public struct FillMaskPrediction: Sendable, Equatable {
    public let score: Float
    public let token: Int
    /// `decode([token])`.
    public let tokenString: String
    /// The input with this token in the mask's place, padding removed, decoded (special tokens
    /// skipped when the text has a single mask, kept otherwise, as the pipeline does).
    public let sequence: String
}

/// Masked-token prediction over a text holding the tokenizer's mask token.
public enum FillMask {
    /// The `topK` proposals for each mask of `text`, in text order.
    public static func predict(
        _ text: String, model: TextModel, topK: Int = 5, maxLength: Int? = nil, options: EncodeOptions = EncodeOptions()
    ) throws -> [[FillMaskPrediction]] {
        guard topK > 0 else { throw LSGError(.invalidOption, "--top-k must be at least 1 (got \(topK))") }
        let tokenizer = model.tokenizer
        guard let mask = tokenizer.specialTokens.tokens[.mask], let maskID = mask.id else {
            throw LSGError(.unsupported, "\(model.directory.url.path): the tokenizer has no mask token")
        }
        let encoding = try model.tokenize(text, maxLength: maxLength)
        let positions = encoding.ids.indices.filter { encoding.ids[$0] == maskID }
        guard !positions.isEmpty else {
            throw LSGError(.invalidInput, "no mask token \(mask.content) in the text")
        }
        var options = options
        options.maskedLMRows = positions
        let output = try model.run(encoding, options: options)
        guard let logits = output.logits else { throw LSGError(.internal, "the encoder computed no MLM logits") }
        let vocabulary = logits.count / positions.count
        let padID = tokenizer.specialTokens.id(.pad)
        let singleMask = positions.count == 1
        return positions.indices.map { index in
            let probabilities = Scores.softmax(logits[(index * vocabulary)..<((index + 1) * vocabulary)])
            return Scores.top(min(topK, vocabulary), of: probabilities).map { token in
                var ids = encoding.ids
                ids[positions[index]] = token
                ids.removeAll { $0 == padID }
                return FillMaskPrediction(
                    score: probabilities[token], token: token, tokenString: tokenizer.decode([token]),
                    sequence: tokenizer.decode(ids, skipSpecialTokens: singleMask))
            }
        }
    }
}
