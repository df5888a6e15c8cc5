/// One model class of a family (base model or a task head) and the tensors it owns
/// besides the encoder's.
public struct Architecture: Sendable, Hashable {
    public enum Head: String, Sendable, CaseIterable {
        case base, maskedLM, causalLM, preTraining, conditionalGeneration, multipleChoice, questionAnswering
        case sequenceClassification, tokenClassification

        /// The transformers Auto class that loads this head.
        public var autoClass: String {
            switch self {
            case .base: return "AutoModel"
            case .maskedLM: return "AutoModelForMaskedLM"
            case .causalLM: return "AutoModelForCausalLM"
            case .preTraining: return "AutoModelForPreTraining"
            case .conditionalGeneration: return "AutoModelForSeq2SeqLM"
            case .multipleChoice: return "AutoModelForMultipleChoice"
            case .questionAnswering: return "AutoModelForQuestionAnswering"
            case .sequenceClassification: return "AutoModelForSequenceClassification"
            case .tokenClassification: return "AutoModelForTokenClassification"
            }
        }
    }

    public let family: ModelFamily
    public let head: Head

    /// `head` must be one of the family's (`ModelFamily.architectures`).
    public init(family: ModelFamily, head: Head) {
        self.family = family
        self.head = head
    }

    private var headDescription: HeadDescription {
        guard let described = family.facts.heads[head] else {
            preconditionFailure("\(family.rawValue) has no \(head.rawValue) class")
        }
        return described
    }

    /// The transformers class name, e.g. `CamembertForMaskedLM`, `BertLMHeadModel`.
    public var className: String { headDescription.className }

    /// The class of the converted model, e.g. `LSGCamembertForMaskedLM`.
    public var lsgClassName: String { "LSG" + className }

    public var isBase: Bool { head == .base }

    /// Whether transformers saves a `generation_config.json` with the class (`can_generate()`).
    public var canGenerate: Bool { head == .causalLM || head == .conditionalGeneration }

    /// The prefix of encoder tensors in a checkpoint of this class ("" or "roberta.").
    public var encoderPrefix: String { isBase ? "" : family.basePrefix + "." }

    /// The pooler's dense module with the encoder prefix, when the class builds the encoder
    /// with its pooler.
    public var poolerModule: String? {
        guard headDescription.hasPooler, let pooler = family.facts.pooler else { return nil }
        return encoderPrefix + pooler
    }

    /// Whether the class builds the encoder with its pooler (DistilBERT and ELECTRA have none).
    public var hasPooler: Bool { poolerModule != nil }

    /// Tensors of the head, as stored by transformers (tied copies excluded).
    public var headTensors: [String] { headDescription.tensors }

    /// Why the reference cannot convert this class; nil when it converts.
    public var refusal: String? { headDescription.refusal }

    /// The task head's computation; nil for the base model and the pretraining and LM heads.
    public var taskHead: TaskHeadComputation? { headDescription.computation }

    /// Every tensor the LSG class stores, in the order of its `state_dict` (the order
    /// transformers shards in): embeddings with the global table, the embedding projection
    /// (ELECTRA with `embedding_size` != `hidden_size`, ALBERT), the stored layers, pooler, head.
    public func storedTensors(layers: LayerSharing, tieWordEmbeddings: Bool, projectsEmbeddings: Bool = false) -> [String] {
        let prefix = encoderPrefix
        let tensors = family.encoderTensorNames
        var names: [String]
        if let decoder = tensors.decoder, let decoderLayers = layers.decoderLayers {
            names = headDescription.buffersBeforeModel.flatMap(\.tensors)
                + tensors.encoderDecoderTensors(encoderLayers: layers.storedLayerCount, decoder: decoder,
                                                decoderLayers: decoderLayers).map { prefix + $0 }
        } else {
            names = tensors.embeddingTensors.map { prefix + $0 }
        }
        if projectsEmbeddings, let projection = tensors.embeddingProjection?.module {
            names += [prefix + projection + ".weight", prefix + projection + ".bias"]
        }
        if tensors.decoder == nil {
            for layer in 0..<layers.storedLayerCount {
                names += tensors.layerTensors(layer, layersPerGroup: layers.layersPerGroup).map { prefix + $0 }
            }
        }
        if let poolerModule { names += [poolerModule + ".weight", poolerModule + ".bias"] }
        var head = headTensors
        if !tieWordEmbeddings, let decoder = tiedDecoderWeight {
            let module = String(decoder.dropLast(".weight".count))
            if let bias = head.firstIndex(of: module + ".bias") {
                head.insert(decoder, at: bias)  // a plain Linear: weight, then bias
            } else {
                // The decoder is the last module of the LM head (`lm_head.decoder`, `cls.predictions.decoder`).
                let lmHead = module.split(separator: ".").dropLast().joined(separator: ".") + "."
                let lmHeadEnd = head.lastIndex { $0.hasPrefix(lmHead) } ?? head.count - 1
                head.insert(decoder, at: lmHeadEnd + 1)
            }
        }
        return names + head
    }

    /// The output-embedding matrix tied to the word embeddings (not stored when tied).
    public var tiedDecoderWeight: String? { headDescription.tiedDecoder?.name }

    /// Every name of the class's `state_dict`, tied copies included, in its order: what
    /// transformers matches a checkpoint against (`ClassStateDict`).
    public func stateDictNames(layers: LayerSharing, projectsEmbeddings: Bool = false) -> [String] {
        var names = storedTensors(layers: layers, tieWordEmbeddings: false, projectsEmbeddings: projectsEmbeddings)
        let tensors = family.encoderTensorNames
        // Each stack declares its copy of the shared table first: the encoder's follows the shared
        // table, the decoder's precedes the decoder's positions.
        if let copy = tensors.wordEmbeddingsCopy, let shared = names.firstIndex(of: encoderPrefix + tensors.wordEmbeddings) {
            names.insert(encoderPrefix + copy, at: shared + 1)
        }
        if let decoder = tensors.decoder, let positions = names.firstIndex(of: encoderPrefix + decoder.positionEmbeddings) {
            names.insert(encoderPrefix + decoder.wordEmbeddingsCopy, at: positions)
        }
        for (stored, alias) in tiedAliases.sorted(by: { $0.key < $1.key }) {
            // The alias is the decoder's bias: it follows the decoder's weight.
            let after = tiedDecoderWeight.flatMap(names.firstIndex(of:)) ?? names.firstIndex(of: stored) ?? names.count - 1
            names.insert(alias, at: after + 1)
        }
        return names
    }

    /// Names that share one parameter once transformers ties the weights, in load order (the
    /// head's name last).
    public func tiedGroups(tieWordEmbeddings: Bool) -> [[String]] {
        var groups = tiedAliases.sorted(by: { $0.key < $1.key }).map { [$0.key, $0.value] }
        let names = family.encoderTensorNames
        let word = [encoderPrefix + names.wordEmbeddings] + names.wordEmbeddingsCopies.map { encoderPrefix + $0 }
        if tieWordEmbeddings, let decoder = tiedDecoderWeight {
            groups.append(word + [decoder])
        } else if word.count > 1 {
            groups.append(word)
        }
        return groups
    }

    /// Head tensors that share storage with another head tensor, by stored name: a source
    /// may hold either name, transformers writes only the stored one.
    public var tiedAliases: [String: String] { headDescription.tiedAliases }

    /// The shape transformers gives a pooler or head tensor it creates for this class (the
    /// source lacks it); nil for any other tensor and for modules a conversion refuses to create.
    public func newModuleShape(of tensor: String, config: ModelConfig) -> [Int]? {
        if let buffer = headDescription.buffersBeforeModel.first(where: { $0.tensors.contains(tensor) }) {
            return buffer.shape(of: tensor, config: config)
        }
        if let poolerModule, tensor == poolerModule + ".weight" || tensor == poolerModule + ".bias" {
            return HeadModule.linear(poolerModule, outputs: .hidden).shape(of: tensor, config: config)
        }
        let modules = headDescription.modules + (headDescription.tiedDecoder.map { [$0] } ?? [])
        guard let module = modules.first(where: { $0.tensors.contains(tensor) }), module.initialisedWhenMissing else {
            return nil
        }
        return module.shape(of: tensor, config: config)
    }
}
