/// How a task head turns the encoder's last hidden state into its outputs, as transformers'
/// head modules compute them in eval mode (dropout off): which rows it reads, then a chain of
/// linear layers, each with an optional activation.
public struct TaskHeadComputation: Sendable, Equatable {
    public enum Input: String, Sendable {
        /// The first token's hidden state (`<s>`, `[CLS]`).
        case firstToken
        /// Every token's hidden state.
        case everyToken
        /// The pooler's output: tanh(dense(first token)).
        case pooledOutput
    }

    public enum LayerActivation: String, Sendable {
        case tanh, relu
        /// Exact GELU (transformers' `get_activation("gelu")`).
        case gelu
    }

    public struct Layer: Sendable, Equatable {
        /// The module whose `.weight` (`[outputs, inputs]`) and `.bias` the layer reads.
        public let module: String
        public let activation: LayerActivation?
    }

    public let input: Input
    public let layers: [Layer]
    /// Output names: the last layer's outputs are split evenly among them (question answering's
    /// start and end logits).
    public let outputs: [String]

    init(_ input: Input, _ layers: [(String, LayerActivation?)], outputs: [String] = ["logits"]) {
        self.input = input
        self.layers = layers.map { Layer(module: $0.0, activation: $0.1) }
        self.outputs = outputs
    }
}

extension Architecture {
    /// The task head's computation; nil for the base model and the pretraining and LM heads.
    public var taskHead: TaskHeadComputation? {
        switch (head, family) {
        case (.sequenceClassification, .bert):
            return TaskHeadComputation(.pooledOutput, [("classifier", nil)])
        case (.sequenceClassification, .distilbert), (.multipleChoice, .distilbert):
            return TaskHeadComputation(.firstToken, [("pre_classifier", .relu), ("classifier", nil)])
        case (.sequenceClassification, .electra):
            return TaskHeadComputation(.firstToken, [("classifier.dense", .gelu), ("classifier.out_proj", nil)])
        case (.sequenceClassification, _):
            return TaskHeadComputation(.firstToken, [("classifier.dense", .tanh), ("classifier.out_proj", nil)])
        case (.multipleChoice, .electra):
            // SequenceSummary with ElectraConfig's summary_type "first", a projection and GELU.
            return TaskHeadComputation(.firstToken, [("sequence_summary.summary", .gelu), ("classifier", nil)])
        case (.multipleChoice, _):
            return TaskHeadComputation(.pooledOutput, [("classifier", nil)])
        case (.tokenClassification, _):
            return TaskHeadComputation(.everyToken, [("classifier", nil)])
        case (.questionAnswering, _):
            return TaskHeadComputation(.everyToken, [("qa_outputs", nil)], outputs: ["start_logits", "end_logits"])
        case (.base, _), (.maskedLM, _), (.causalLM, _), (.preTraining, _):
            return nil
        }
    }
}
