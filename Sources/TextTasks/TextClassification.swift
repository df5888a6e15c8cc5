import Checkpoint
import LSGEncoder
import LSGErrors
import Tokenizers

/// A label and its score.
public struct LabelScore: Sendable, Equatable {
    public let label: String
    public let score: Float
}

/// Sequence classification as transformers' `TextClassificationPipeline` with `top_k=None`:
/// every label with its score, best first.
public enum TextClassification {
    public static func classify(
        _ text: String, model: TextModel, maxLength: Int? = nil, options: EncodeOptions = EncodeOptions()
    ) throws -> [LabelScore] {
        let encoding = try model.tokenize(text, maxLength: maxLength)
        let output = try model.run(encoding, options: options)
        guard let logits = output.taskOutputs.first(where: { $0.name == "logits" })?.values else {
            throw LSGError(.internal, "the encoder computed no classification logits")
        }
        let config = model.directory.config
        // The pipeline's choice: sigmoid for multi-label problems and single-logit heads, else softmax.
        let scores = config.problemType == "multi_label_classification" || logits.count == 1
            ? Scores.sigmoid(logits) : Scores.softmax(logits)
        let labels = config.labels
        return Scores.top(scores.count, of: scores).map { index in
            LabelScore(label: labels[index] ?? "LABEL_\(index)", score: scores[index])
        }
    }
}
