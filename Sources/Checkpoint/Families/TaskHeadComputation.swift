/// How a task head turns the encoder's (or, for the encoder-decoder families, the decoder's) last
/// hidden state into its outputs, as transformers' head modules compute them in eval mode (dropout
/// off): which rows it reads, then a chain of linear layers, each with an optional activation.
public struct TaskHeadComputation: Sendable, Equatable {
    public enum Input: String, Sendable {
        /// The first token's hidden state (`<s>`, `[CLS]`).
        case firstToken
        /// Every token's hidden state.
        case everyToken
        /// The pooler's output: tanh(dense(first token)).
        case pooledOutput
        /// The hidden state at each row's last eos token (`input_ids == eos_token_id`); every row
        /// must hold as many eos tokens (BART's classifier).
        case lastEOSToken
    }

    /// Whose last hidden state the head reads.
    public enum States: String, Sendable {
        case encoder
        /// The decoder's, run on `shift_tokens_right(input_ids)` (BART's and mBART's heads).
        case decoder
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
    public let states: States
    public let layers: [Layer]
    /// Output names: the last layer's outputs are split evenly among them (question answering's
    /// start and end logits).
    public let outputs: [String]

    init(_ input: Input, _ layers: [(String, LayerActivation?)], outputs: [String] = ["logits"], states: States = .encoder) {
        self.input = input
        self.states = states
        self.layers = layers.map { Layer(module: $0.0, activation: $0.1) }
        self.outputs = outputs
    }
}
