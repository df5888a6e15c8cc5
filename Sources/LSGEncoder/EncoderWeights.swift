import Checkpoint
import SafeTensors

/// Where the encoder reads its weights: a safetensors file or a checkpoint's tensor store.
public protocol WeightSource {
    /// The file or directory, for error messages.
    var sourceName: String { get }
    func shape(of name: String) -> [Int]?
    /// Values widened to Float (F32, F16, BF16).
    func floats(_ name: String) throws -> [Float]
}

extension SafeTensorsFile: WeightSource {
    public var sourceName: String { name }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
}

extension TensorStore: WeightSource {
    public var sourceName: String { directory.path }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
}

/// Which outputs besides the last hidden state the encoder computes.
public enum EncoderHead: String, Sendable, CaseIterable {
    /// Masked-LM logits over the vocabulary (decoder tied to the word embeddings).
    case mlm
    /// BERT-style pooler: tanh(dense(first token)).
    case pooler
}

/// All weights of one model, in the layout the encoder computes with. Loading is strict: a
/// missing or mis-shaped tensor is an error naming it; buffers and unused heads are ignored.
struct EncoderWeights: Sendable {
    struct Norm: Sendable {
        let weight: [Float]
        let bias: [Float]
    }

    struct Layer: Sendable {
        /// Query, key and value weights stacked into one [3·hidden, hidden] matrix.
        let qkvWeight: [Float]
        let qkvBias: [Float]
        let attentionOutputWeight: [Float]
        let attentionOutputBias: [Float]
        let attentionNorm: Norm
        let intermediateWeight: [Float]
        let intermediateBias: [Float]
        let outputWeight: [Float]
        let outputBias: [Float]
        let outputNorm: Norm
    }

    struct MaskedLMHead: Sendable {
        let denseWeight: [Float]
        let denseBias: [Float]
        let norm: Norm
        /// The BERT head uses the model's activation; the RoBERTa head always exact GELU.
        let activation: Activation
        let decoderBias: [Float]
    }

    struct Pooler: Sendable {
        let weight: [Float]
        let bias: [Float]
    }

    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let tokenTypeEmbeddings: [Float]
    /// The first `num_global_tokens` rows of the global-token table (LSG models only).
    let globalEmbeddings: [Float]
    let embeddingNorm: Norm
    let layers: [Layer]
    let maskedLM: MaskedLMHead?
    let pooler: Pooler?

    init(source: WeightSource, configuration config: EncoderConfiguration, heads: Set<EncoderHead>) throws {
        let reader = WeightReader(source: source)
        let prefix = try reader.encoderPrefix(family: config.family)
        let h = config.hiddenSize
        let encoderTensor = { (name: String, shape: [Int]) throws -> [Float] in
            try reader.tensor(prefix + name, shape: shape)
        }
        func norm(_ name: String) throws -> Norm {
            Norm(weight: try encoderTensor(name + ".weight", [h]), bias: try encoderTensor(name + ".bias", [h]))
        }

        wordEmbeddings = try encoderTensor("embeddings.word_embeddings.weight", [config.vocabSize, h])
        positionEmbeddings = try encoderTensor(
            "embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, h])
        tokenTypeEmbeddings = try encoderTensor("embeddings.token_type_embeddings.weight", [config.typeVocabSize, h])
        embeddingNorm = try norm("embeddings.LayerNorm")
        if let lsg = config.lsg {
            let name = prefix + "embeddings.global_embeddings.weight"
            let rows = try reader.rows(name, columns: h, atLeast: lsg.numGlobalTokens)
            globalEmbeddings = Array(try reader.tensor(name, shape: [rows, h]).prefix(lsg.numGlobalTokens * h))
        } else {
            globalEmbeddings = []
        }

        layers = try (0..<config.numHiddenLayers).map { index in
            let base = "encoder.layer.\(index)."
            let i = config.intermediateSize
            var qkvWeight: [Float] = []
            var qkvBias: [Float] = []
            qkvWeight.reserveCapacity(3 * h * h)
            for part in ["query", "key", "value"] {
                qkvWeight += try encoderTensor(base + "attention.self.\(part).weight", [h, h])
                qkvBias += try encoderTensor(base + "attention.self.\(part).bias", [h])
            }
            return Layer(
                qkvWeight: qkvWeight, qkvBias: qkvBias,
                attentionOutputWeight: try encoderTensor(base + "attention.output.dense.weight", [h, h]),
                attentionOutputBias: try encoderTensor(base + "attention.output.dense.bias", [h]),
                attentionNorm: try norm(base + "attention.output.LayerNorm"),
                intermediateWeight: try encoderTensor(base + "intermediate.dense.weight", [i, h]),
                intermediateBias: try encoderTensor(base + "intermediate.dense.bias", [i]),
                outputWeight: try encoderTensor(base + "output.dense.weight", [h, i]),
                outputBias: try encoderTensor(base + "output.dense.bias", [h]),
                outputNorm: try norm(base + "output.LayerNorm"))
        }

        if heads.contains(.mlm) {
            let isBert = config.family == .bert
            let head = isBert ? "cls.predictions.transform." : "lm_head."
            let normName = isBert ? "LayerNorm" : "layer_norm"
            let biasNames = isBert
                ? ["cls.predictions.bias", "cls.predictions.decoder.bias"] : ["lm_head.bias", "lm_head.decoder.bias"]
            maskedLM = MaskedLMHead(
                denseWeight: try reader.tensor(head + "dense.weight", shape: [h, h]),
                denseBias: try reader.tensor(head + "dense.bias", shape: [h]),
                norm: Norm(
                    weight: try reader.tensor(head + normName + ".weight", shape: [h]),
                    bias: try reader.tensor(head + normName + ".bias", shape: [h])),
                activation: isBert ? config.hiddenAct : .gelu,
                decoderBias: try reader.tensor(anyOf: biasNames, shape: [config.vocabSize]))
        } else {
            maskedLM = nil
        }
        if heads.contains(.pooler) {
            pooler = Pooler(
                weight: try encoderTensor("pooler.dense.weight", [h, h]),
                bias: try encoderTensor("pooler.dense.bias", [h]))
        } else {
            pooler = nil
        }
    }
}

/// Strict, named tensor lookups over a weight source.
private struct WeightReader {
    let source: WeightSource

    /// "" for a base-model checkpoint, "roberta." or "bert." for a task-head checkpoint.
    func encoderPrefix(family: ModelFamily) throws -> String {
        let probe = "embeddings.word_embeddings.weight"
        let candidates = ["", family.basePrefix + "."].filter { source.shape(of: $0 + probe) != nil }
        guard let prefix = candidates.first else {
            throw EncoderError("\(source.sourceName): no tensor '\(probe)' or '\(family.basePrefix).\(probe)'")
        }
        guard candidates.count == 1 else {
            throw EncoderError("\(source.sourceName): holds both '\(probe)' and '\(family.basePrefix).\(probe)'; which encoder to use is ambiguous")
        }
        return prefix
    }

    func tensor(_ name: String, shape expected: [Int]) throws -> [Float] {
        guard let shape = source.shape(of: name) else {
            throw EncoderError("\(source.sourceName): missing tensor '\(name)'")
        }
        guard shape == expected else {
            throw EncoderError("\(source.sourceName): tensor '\(name)' has shape \(shape), expected \(expected)")
        }
        return try source.floats(name)
    }

    func tensor(anyOf names: [String], shape: [Int]) throws -> [Float] {
        guard let name = names.first(where: { source.shape(of: $0) != nil }) else {
            throw EncoderError("\(source.sourceName): missing tensor '\(names[0])'")
        }
        return try tensor(name, shape: shape)
    }

    /// The row count of a [rows, columns] table that must hold at least `atLeast` rows.
    func rows(_ name: String, columns: Int, atLeast minimum: Int) throws -> Int {
        guard let shape = source.shape(of: name) else {
            throw EncoderError("\(source.sourceName): missing tensor '\(name)'")
        }
        guard shape.count == 2, shape[1] == columns, shape[0] >= minimum else {
            throw EncoderError("\(source.sourceName): tensor '\(name)' has shape \(shape), expected [>= \(minimum), \(columns)]")
        }
        return shape[0]
    }
}
