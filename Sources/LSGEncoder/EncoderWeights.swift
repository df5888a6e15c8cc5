import Checkpoint
import SafeTensors

/// Where the encoder reads its weights: a safetensors file or a checkpoint's tensor store.
public protocol WeightSource: Sendable {
    /// The file or directory, for error messages.
    var sourceName: String { get }
    func shape(of name: String) -> [Int]?
    /// Values widened to Float (F32, F16, BF16).
    func floats(_ name: String) throws -> [Float]
    /// An F32 tensor's values in place, valid as long as the source lives; nil when the
    /// tensor must be converted or copied.
    func mappedFloats(_ name: String) -> UnsafeBufferPointer<Float>?
}

extension WeightSource {
    public func mappedFloats(_ name: String) -> UnsafeBufferPointer<Float>? { nil }
}

extension SafeTensorsFile: WeightSource {
    public var sourceName: String { name }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
}

extension TensorStore: WeightSource {
    public var sourceName: String { directory.path }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }

    /// F32 tensors are read where the files are mapped: the mapping lives as long as the
    /// store, so the pointer may outlive the `withBytes` call.
    public func mappedFloats(_ name: String) -> UnsafeBufferPointer<Float>? {
        guard let info = info(name), info.dtype == .f32 else { return nil }
        let bytes = try? withBytes(of: name) { $0 }
        guard let bytes, let base = bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else {
            return nil
        }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: info.elementCount)
    }
}

/// A weight tensor's values: mapped from the checkpoint, or owned by `EncoderWeights`.
struct WeightTensor: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    let count: Int

    subscript(index: Int) -> Float { pointer[index] }
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
/// F32 weights stay in the memory-mapped checkpoint; F16/BF16 ones are widened into owned
/// buffers, and the query, key and value weights are stacked into one owned matrix per layer.
struct EncoderWeights: Sendable {
    struct Norm: Sendable {
        let weight: WeightTensor
        let bias: WeightTensor
    }

    struct Layer: Sendable {
        /// Query, key and value weights stacked into one [3·hidden, hidden] matrix.
        let qkvWeight: WeightTensor
        let qkvBias: WeightTensor
        let attentionOutputWeight: WeightTensor
        let attentionOutputBias: WeightTensor
        let attentionNorm: Norm
        let intermediateWeight: WeightTensor
        let intermediateBias: WeightTensor
        let outputWeight: WeightTensor
        let outputBias: WeightTensor
        let outputNorm: Norm
    }

    struct MaskedLMHead: Sendable {
        let denseWeight: WeightTensor
        let denseBias: WeightTensor
        let norm: Norm
        /// The BERT head uses the model's activation; the RoBERTa head always exact GELU.
        let activation: Activation
        /// `[vocab, hidden]`: the word embeddings when tied, else the stored decoder.
        let decoderWeight: WeightTensor
        let decoderBias: WeightTensor
    }

    struct Pooler: Sendable {
        let weight: WeightTensor
        let bias: WeightTensor
    }

    let wordEmbeddings: WeightTensor
    let positionEmbeddings: WeightTensor
    let tokenTypeEmbeddings: WeightTensor
    /// The first `num_global_tokens` rows of the global-token table (LSG models only).
    let globalEmbeddings: WeightTensor
    let embeddingNorm: Norm
    let layers: [Layer]
    let maskedLM: MaskedLMHead?
    let pooler: Pooler?
    /// Keeps mapped tensors and owned buffers alive.
    private let owners: WeightOwners

    init(source: any WeightSource, configuration config: EncoderConfiguration, heads: Set<EncoderHead>) throws {
        let owners = WeightOwners(source: source)
        self.owners = owners
        let reader = WeightReader(source: source, owners: owners)
        let prefix = try reader.encoderPrefix(family: config.family)
        let h = config.hiddenSize
        let encoderTensor = { (name: String, shape: [Int]) throws -> WeightTensor in
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
            globalEmbeddings = try reader.tensor(name, shape: [rows, h])
        } else {
            globalEmbeddings = owners.own([])
        }

        layers = try (0..<config.numHiddenLayers).map { index in
            let base = "encoder.layer.\(index)."
            let i = config.intermediateSize
            let parts = ["query", "key", "value"].map { base + "attention.self.\($0)" }
            let qkvWeight = try owners.stack(parts.map { try encoderTensor($0 + ".weight", [h, h]) })
            let qkvBias = try owners.stack(parts.map { try encoderTensor($0 + ".bias", [h]) })
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
                decoderWeight: config.tiesWordEmbeddings
                    ? wordEmbeddings
                    : try reader.tensor(isBert ? "cls.predictions.decoder.weight" : "lm_head.decoder.weight", shape: [config.vocabSize, h]),
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

/// The memory behind weight tensors: the source (for mapped tensors) and owned buffers.
private final class WeightOwners: @unchecked Sendable {
    let source: any WeightSource
    /// Appended to only while loading, then read-only.
    private var buffers: [FloatBuffer] = []

    init(source: any WeightSource) { self.source = source }

    func own(_ values: [Float]) -> WeightTensor {
        let buffer = FloatBuffer(count: values.count)
        buffer.base.update(from: values, count: values.count)
        buffers.append(buffer)
        return WeightTensor(pointer: UnsafePointer(buffer.base), count: values.count)
    }

    /// The tensors one after the other in a new buffer.
    func stack(_ tensors: [WeightTensor]) -> WeightTensor {
        let count = tensors.reduce(0) { $0 + $1.count }
        let buffer = FloatBuffer(count: count)
        var offset = 0
        for tensor in tensors {
            (buffer.base + offset).update(from: tensor.pointer, count: tensor.count)
            offset += tensor.count
        }
        buffers.append(buffer)
        return WeightTensor(pointer: UnsafePointer(buffer.base), count: count)
    }
}

/// Strict, named tensor lookups over a weight source.
private struct WeightReader {
    let source: any WeightSource
    let owners: WeightOwners

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

    func tensor(_ name: String, shape expected: [Int]) throws -> WeightTensor {
        guard let shape = source.shape(of: name) else {
            throw EncoderError("\(source.sourceName): missing tensor '\(name)'")
        }
        guard shape == expected else {
            throw EncoderError("\(source.sourceName): tensor '\(name)' has shape \(shape), expected \(expected)")
        }
        if let mapped = source.mappedFloats(name), let base = mapped.baseAddress {
            return WeightTensor(pointer: base, count: mapped.count)
        }
        return owners.own(try source.floats(name))
    }

    func tensor(anyOf names: [String], shape: [Int]) throws -> WeightTensor {
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
