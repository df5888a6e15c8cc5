import Checkpoint
import LSGErrors
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
    /// Drops the resident pages of a tensor `mappedFloats` returned; reading it again maps them
    /// back. Only lowers memory use.
    func releaseMappedPages(of name: String)
}

extension WeightSource {
    public func mappedFloats(_ name: String) -> UnsafeBufferPointer<Float>? { nil }
    public func releaseMappedPages(of name: String) {}
}

extension SafeTensorsFile: WeightSource {
    public var sourceName: String { name }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
}

extension TensorStore: WeightSource {
    public var sourceName: String { directory.path }
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
    public func releaseMappedPages(of name: String) { try? releasePages(of: name) }

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
    /// The checkpoint tensor whose mapped pages these are; nil for an owned buffer.
    var mappedName: String?

    subscript(index: Int) -> Float { pointer[index] }
}

/// Which outputs besides the last hidden state the encoder computes.
public enum EncoderHead: String, Sendable, CaseIterable {
    /// Masked-LM logits over the vocabulary (decoder tied to the word embeddings; ELECTRA's generator head).
    case mlm
    /// BERT-style pooler: tanh(dense(first token)); DistilBERT and ELECTRA have none.
    case pooler
    /// `logits` `[batch, labels]` of a sequence classifier.
    case sequenceClassification = "sequence-classification"
    /// `logits` `[batch, length, labels]` of a token classifier.
    case tokenClassification = "token-classification"
    /// `start_logits` and `end_logits`, `[batch, length]` each.
    case questionAnswering = "question-answering"
    /// `logits` `[batch / choices, choices]` (see `EncoderInput.choices`).
    case multipleChoice = "multiple-choice"

    /// The task head's architecture head, nil for `mlm` and `pooler`.
    public var taskHead: Architecture.Head? {
        switch self {
        case .mlm, .pooler: return nil
        case .sequenceClassification: return .sequenceClassification
        case .tokenClassification: return .tokenClassification
        case .questionAnswering: return .questionAnswering
        case .multipleChoice: return .multipleChoice
        }
    }

    /// Whether its `logits` score whole sequences (or choices) rather than tokens.
    public var hasSequenceLogits: Bool { self == .sequenceClassification || self == .multipleChoice }

    /// The encoder head that runs an architecture's task head (nil for base, LM and pretraining classes).
    public init?(taskHead head: Architecture.Head) {
        guard let match = Self.allCases.first(where: { $0.taskHead == head }) else { return nil }
        self = match
    }
}

/// All weights of one model, in the layout the encoder computes with. Loading is strict: a
/// missing or mis-shaped tensor is an error naming it; buffers and unused heads are ignored.
/// F32 weights stay in the memory-mapped checkpoint, and `release` drops the pages of those a
/// step no longer needs, so memory stays near one layer's weights; F16/BF16 ones are widened
/// into owned buffers.
struct EncoderWeights: Sendable {
    struct Norm: Sendable {
        let weight: WeightTensor
        let bias: WeightTensor
    }

    struct Layer: Sendable {
        /// Query, key and value weights, each [hidden, hidden]: stacked into one matrix when the
        /// layer runs (`Encoder.forward`), for a single fused product.
        let queryWeight: WeightTensor
        let keyWeight: WeightTensor
        let valueWeight: WeightTensor
        /// Query, key and value biases stacked.
        let qkvBias: WeightTensor
        let attentionOutputWeight: WeightTensor
        let attentionOutputBias: WeightTensor
        let attentionNorm: Norm
        let intermediateWeight: WeightTensor
        let intermediateBias: WeightTensor
        let outputWeight: WeightTensor
        let outputBias: WeightTensor
        let outputNorm: Norm

        var tensors: [WeightTensor] {
            [queryWeight, keyWeight, valueWeight, attentionOutputWeight, attentionOutputBias, attentionNorm.weight,
             attentionNorm.bias, intermediateWeight, intermediateBias, outputWeight, outputBias, outputNorm.weight,
             outputNorm.bias]
        }
    }

    struct MaskedLMHead: Sendable {
        /// `[width, hidden]`: maps the hidden states to the decoder's input width.
        let denseWeight: WeightTensor
        let denseBias: WeightTensor
        let norm: Norm
        /// The model's activation (BERT, DistilBERT) or always exact GELU (RoBERTa family, ELECTRA).
        let activation: Activation
        /// `[vocab, width]`: the word embeddings when tied, else the stored decoder.
        let decoderWeight: WeightTensor
        let decoderBias: WeightTensor
        /// The decoder's input width: the embedding size (ELECTRA's generator), else the hidden size.
        let width: Int
    }

    struct Pooler: Sendable {
        let weight: WeightTensor
        let bias: WeightTensor
    }

    struct Linear: Sendable {
        let weight: WeightTensor
        let bias: WeightTensor
    }

    /// A task head's layers (`TaskHeadComputation`), shapes checked to chain from the hidden size.
    struct TaskHead: Sendable {
        struct Layer: Sendable {
            let linear: Linear
            let inputs: Int
            let outputs: Int
            let activation: TaskHeadComputation.LayerActivation?
        }

        let head: EncoderHead
        let computation: TaskHeadComputation
        let layers: [Layer]
        /// The last layer's width.
        var outputWidth: Int { layers.last?.outputs ?? 0 }
    }

    let wordEmbeddings: WeightTensor
    let positionEmbeddings: WeightTensor
    /// nil for families without token types (DistilBERT).
    let tokenTypeEmbeddings: WeightTensor?
    /// The first `num_global_tokens` rows of the global-token table (LSG models only).
    let globalEmbeddings: WeightTensor
    /// nil when the embeddings are not normalised (Pegasus).
    let embeddingNorm: Norm?
    /// The LayerNorm after the last layer (mBART, Pegasus); nil when there is none.
    let finalNorm: Norm?
    /// The map from the embeddings to the hidden size (`[hidden, embedding]`), when the model has one.
    let embeddingProjection: Linear?
    /// Whether adaptive padding rows go through `embeddingProjection` too (ALBERT).
    let projectsAdaptivePadding: Bool
    /// Every layer the forward pass runs, in order; shared layers appear more than once.
    let layers: [Layer]
    /// The stored layers, for releasing them all.
    private let storedLayers: [Layer]
    let maskedLM: MaskedLMHead?
    let pooler: Pooler?
    let taskHead: TaskHead?
    /// Keeps mapped tensors and owned buffers alive.
    private let owners: WeightOwners

    init(source: any WeightSource, configuration config: EncoderConfiguration, heads: Set<EncoderHead>) throws {
        let owners = WeightOwners(source: source)
        self.owners = owners
        let reader = WeightReader(source: source, owners: owners)
        let prefix = try reader.encoderPrefix(family: config.family)
        let names = config.family.encoderTensorNames
        if config.isEncoderDecoder, let head = heads.first {
            throw LSGError(.unsupported, "\(source.sourceName): \(config.family.facts.modelCard.name) heads read the decoder; the encoder runs no \(head.rawValue) head")
        }
        let h = config.hiddenSize
        let e = config.embeddingSize
        let encoderTensor = { (name: String, shape: [Int]) throws -> WeightTensor in
            try reader.tensor(prefix + name, shape: shape)
        }
        func norm(_ name: String, size: Int = h) throws -> Norm {
            Norm(weight: try encoderTensor(name + ".weight", [size]), bias: try encoderTensor(name + ".bias", [size]))
        }
        func linear(_ name: String, inputs: Int, outputs: Int) throws -> Linear {
            Linear(weight: try encoderTensor(name + ".weight", [outputs, inputs]), bias: try encoderTensor(name + ".bias", [outputs]))
        }

        wordEmbeddings = try encoderTensor(names.wordEmbeddings, [config.vocabSize, e])
        positionEmbeddings = try encoderTensor(names.positionEmbeddings, [config.positionRows, e])
        tokenTypeEmbeddings = try names.tokenTypeEmbeddings.map { try encoderTensor($0, [config.typeVocabSize, e]) }
        embeddingNorm = try names.embeddingNorm.map { try norm($0, size: e) }
        finalNorm = try names.finalNorm.map { try norm($0) }
        if let lsg = config.lsg {
            let name = prefix + names.globalEmbeddings
            let rows = try reader.rows(name, columns: e, atLeast: lsg.numGlobalTokens)
            globalEmbeddings = try reader.tensor(name, shape: [rows, e])
        } else {
            globalEmbeddings = owners.own([])
        }
        if config.projectsEmbeddings {
            guard let projection = names.embeddingProjection else {
                throw LSGError(.unsupported, "\(source.sourceName): \(config.family.rawValue) embeddings cannot be projected")
            }
            embeddingProjection = try linear(projection.module, inputs: e, outputs: h)
            projectsAdaptivePadding = projection.mapsAdaptivePadding
        } else {
            embeddingProjection = nil
            projectsAdaptivePadding = false
        }

        let sharing = config.layerSharing
        let stored = try (0..<sharing.storedLayerCount).map { index in
            let layer = names.layer(index, layersPerGroup: sharing.layersPerGroup)
            let i = config.intermediateSize
            let parts = [layer.query, layer.key, layer.value]
            let qkvBias = try owners.stack(parts.map { try encoderTensor($0 + ".bias", [h]) })
            return Layer(
                queryWeight: try encoderTensor(layer.query + ".weight", [h, h]),
                keyWeight: try encoderTensor(layer.key + ".weight", [h, h]),
                valueWeight: try encoderTensor(layer.value + ".weight", [h, h]),
                qkvBias: qkvBias,
                attentionOutputWeight: try encoderTensor(layer.attentionOutput + ".weight", [h, h]),
                attentionOutputBias: try encoderTensor(layer.attentionOutput + ".bias", [h]),
                attentionNorm: try norm(layer.attentionNorm),
                intermediateWeight: try encoderTensor(layer.intermediate + ".weight", [i, h]),
                intermediateBias: try encoderTensor(layer.intermediate + ".bias", [i]),
                outputWeight: try encoderTensor(layer.output + ".weight", [h, i]),
                outputBias: try encoderTensor(layer.output + ".bias", [h]),
                outputNorm: try norm(layer.outputNorm))
        }
        storedLayers = stored
        layers = sharing.schedule.map { stored[$0] }

        if heads.contains(.mlm) {
            guard let names = config.family.facts.maskedLM else {
                throw LSGError(.missingTensor, "\(source.sourceName): \(config.family.rawValue) models have no masked-LM head")
            }
            let width = names.width == .embedding ? e : h
            maskedLM = MaskedLMHead(
                denseWeight: try reader.tensor(names.dense + ".weight", shape: [width, h]),
                denseBias: try reader.tensor(names.dense + ".bias", shape: [width]),
                norm: Norm(
                    weight: try reader.tensor(names.norm + ".weight", shape: [width]),
                    bias: try reader.tensor(names.norm + ".bias", shape: [width])),
                activation: names.activation == .model ? config.hiddenAct : .gelu,
                decoderWeight: config.tiesWordEmbeddings
                    ? wordEmbeddings
                    : try reader.tensor(names.decoder, shape: [config.vocabSize, width]),
                decoderBias: try reader.tensor(anyOf: names.biases, shape: [config.vocabSize]),
                width: width)
        } else {
            maskedLM = nil
        }
        let taskHeads = heads.filter { $0.taskHead != nil }
        guard taskHeads.count <= 1, taskHeads.isEmpty || !heads.contains(.mlm) else {
            let names = heads.map(\.rawValue).sorted().joined(separator: ", ")
            throw LSGError(.invalidOption, "\(source.sourceName): heads \(names) cannot run together; a model has one task head")
        }
        taskHead = try taskHeads.first.map { head in
            try reader.taskHead(head, architecture: Architecture(family: config.family, head: head.taskHead!), hiddenSize: h)
        }
        if heads.contains(.pooler) || taskHead?.computation.input == .pooledOutput {
            guard let module = config.family.facts.pooler else {
                throw LSGError(.unsupported, "\(source.sourceName): \(config.family.rawValue) models have no pooler")
            }
            pooler = Pooler(
                weight: try encoderTensor(module + ".weight", [h, h]),
                bias: try encoderTensor(module + ".bias", [h]))
        } else {
            pooler = nil
        }
    }

    /// Drops the resident pages of these tensors where they are mapped.
    func release(_ tensors: [WeightTensor]) {
        for case let name? in tensors.map(\.mappedName) { owners.source.releaseMappedPages(of: name) }
    }

    /// Every tensor of the model, for releasing them all.
    var allTensors: [WeightTensor] {
        var tensors = [wordEmbeddings, positionEmbeddings, globalEmbeddings]
        tensors += [tokenTypeEmbeddings, embeddingProjection?.weight, embeddingProjection?.bias, embeddingNorm?.weight,
                    embeddingNorm?.bias, finalNorm?.weight, finalNorm?.bias].compactMap { $0 }
        tensors += storedLayers.flatMap(\.tensors)
        if let maskedLM {
            tensors += [maskedLM.denseWeight, maskedLM.denseBias, maskedLM.norm.weight, maskedLM.norm.bias,
                        maskedLM.decoderWeight, maskedLM.decoderBias]
        }
        if let pooler { tensors += [pooler.weight, pooler.bias] }
        tensors += taskHead?.layers.flatMap { [$0.linear.weight, $0.linear.bias] } ?? []
        return tensors
    }
}

/// The memory behind weight tensors: the source (for mapped tensors) and owned buffers.
final class WeightOwners: @unchecked Sendable {
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
struct WeightReader {
    let source: any WeightSource
    let owners: WeightOwners

    /// "" for a base-model checkpoint, "roberta." or "bert." for a task-head checkpoint.
    func encoderPrefix(family: ModelFamily) throws -> String {
        let probe = family.encoderTensorNames.wordEmbeddings
        let candidates = ["", family.basePrefix + "."].filter { source.shape(of: $0 + probe) != nil }
        guard let prefix = candidates.first else {
            throw LSGError(.malformed, "\(source.sourceName): no tensor '\(probe)' or '\(family.basePrefix).\(probe)'")
        }
        guard candidates.count == 1 else {
            throw LSGError(.malformed, "\(source.sourceName): holds both '\(probe)' and '\(family.basePrefix).\(probe)'; which encoder to use is ambiguous")
        }
        return prefix
    }

    func tensor(_ name: String, shape expected: [Int]) throws -> WeightTensor {
        guard let shape = source.shape(of: name) else {
            throw LSGError(.missingTensor, "\(source.sourceName): missing tensor '\(name)'")
        }
        guard shape == expected else {
            throw LSGError(.shapeMismatch, "\(source.sourceName): tensor '\(name)' has shape \(shape), expected \(expected)")
        }
        if let mapped = source.mappedFloats(name), let base = mapped.baseAddress {
            return WeightTensor(pointer: base, count: mapped.count, mappedName: name)
        }
        return owners.own(try source.floats(name))
    }

    func tensor(anyOf names: [String], shape: [Int]) throws -> WeightTensor {
        guard let name = names.first(where: { source.shape(of: $0) != nil }) else {
            throw LSGError(.missingTensor, "\(source.sourceName): missing tensor '\(names[0])'")
        }
        return try tensor(name, shape: shape)
    }

    /// A task head's layers: each `[outputs, inputs]` weight must take the previous layer's
    /// outputs (the hidden size first); the last layer's outputs must split among the head's outputs.
    func taskHead(_ head: EncoderHead, architecture: Architecture, hiddenSize: Int) throws -> EncoderWeights.TaskHead {
        guard let computation = architecture.taskHead else {
            throw LSGError(.unsupported, "\(source.sourceName): \(architecture.className) has no task head")
        }
        var inputs = hiddenSize
        var layers: [EncoderWeights.TaskHead.Layer] = []
        for layer in computation.layers {
            let name = layer.module + ".weight"
            guard let shape = source.shape(of: name) else {
                throw LSGError(.missingTensor, "\(source.sourceName): missing tensor '\(name)': the model has no \(head.rawValue) head (\(architecture.className))")
            }
            guard shape.count == 2, shape[1] == inputs, shape[0] > 0 else {
                throw LSGError(.shapeMismatch, "\(source.sourceName): tensor '\(name)' has shape \(shape), expected [outputs, \(inputs)]")
            }
            let outputs = shape[0]
            let linear = EncoderWeights.Linear(
                weight: try tensor(name, shape: shape), bias: try tensor(layer.module + ".bias", shape: [outputs]))
            layers.append(.init(linear: linear, inputs: inputs, outputs: outputs, activation: layer.activation))
            inputs = outputs
        }
        // Question answering splits its two outputs into start and end logits; multiple choice
        // scores each choice with one output.
        let required = head == .multipleChoice ? 1 : computation.outputs.count > 1 ? computation.outputs.count : nil
        if let required, inputs != required {
            throw LSGError(.shapeMismatch, "\(source.sourceName): '\(computation.layers.last!.module).weight' has \(inputs) outputs, \(architecture.className) needs \(required)")
        }
        return EncoderWeights.TaskHead(head: head, computation: computation, layers: layers)
    }

    /// The row count of a [rows, columns] table that must hold at least `atLeast` rows.
    func rows(_ name: String, columns: Int, atLeast minimum: Int) throws -> Int {
        guard let shape = source.shape(of: name) else {
            throw LSGError(.missingTensor, "\(source.sourceName): missing tensor '\(name)'")
        }
        guard shape.count == 2, shape[1] == columns, shape[0] >= minimum else {
            throw LSGError(.shapeMismatch, "\(source.sourceName): tensor '\(name)' has shape \(shape), expected [>= \(minimum), \(columns)]")
        }
        return shape[0]
    }
}
