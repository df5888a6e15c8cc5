/// The encoder families the converter supports, with the facts each conversion needs:
/// the position offset, where the encoder's weights live, and the LSG class names the
/// reference's remote code defines (`modeling_lsg_<family>.py`).
public enum ModelFamily: String, Sendable, CaseIterable, Codable {
    case camembert
    case roberta
    case xlmRoberta = "xlm-roberta"
    case bert
    case distilbert
    case electra

    /// The family for a `config.json` `model_type`, or nil when unsupported.
    public init?(modelType: String) {
        self.init(rawValue: modelType)
    }

    /// Rows at the start of the position table that are not positions (RoBERTa-style models
    /// count positions from `padding_idx + 1`). They are kept as they are when tiling.
    public var positionOffset: Int {
        switch self {
        case .camembert, .roberta, .xlmRoberta: return 2
        case .bert, .distilbert, .electra: return 0
        }
    }

    /// The attribute holding the encoder in task-head classes; their weights are stored
    /// under `<basePrefix>.` while the base model class stores them at the root.
    public var basePrefix: String {
        switch self {
        case .camembert, .roberta, .xlmRoberta: return "roberta"
        case .bert: return "bert"
        case .distilbert: return "distilbert"
        case .electra: return "electra"
        }
    }

    /// Whether the embeddings have a token-type table (DistilBERT has none).
    public var hasTokenTypes: Bool { self != .distilbert }

    /// Whether the reference adds token-type row 0 to every global row (its `use_token_ids`,
    /// which only the BERT and ELECTRA converters read).
    public var addsTokenTypeToGlobalRows: Bool { self == .bert || self == .electra }

    /// Tensor names of the embeddings and layers, relative to the encoder prefix.
    public var encoderTensorNames: EncoderTensorNames {
        self == .distilbert ? .distilBERT : .bertStyle
    }

    /// The class-name stem used by transformers (`CamembertForMaskedLM`, `XLMRobertaModel`).
    public var classStem: String {
        switch self {
        case .camembert: return "Camembert"
        case .roberta: return "Roberta"
        case .xlmRoberta: return "XLMRoberta"
        case .bert: return "Bert"
        case .distilbert: return "DistilBert"
        case .electra: return "Electra"
        }
    }

    /// The remote-code module the LSG classes live in, as named in `auto_map`.
    public var lsgModule: String {
        switch self {
        case .camembert: return "modeling_lsg_camembert"
        case .roberta: return "modeling_lsg_roberta"
        case .xlmRoberta: return "modeling_lsg_xlm_roberta"
        case .bert: return "modeling_lsg_bert"
        case .distilbert: return "modeling_lsg_distilbert"
        case .electra: return "modeling_lsg_electra"
        }
    }

    /// Every architecture the family converts, base model first.
    public var architectures: [Architecture] {
        Architecture.Head.allCases.filter { $0.isAvailable(in: self) }.map { Architecture(family: self, head: $0) }
    }

    /// The architecture used when neither the option nor `config.json` names one.
    public var defaultArchitecture: Architecture {
        Architecture(family: self, head: self == .bert || self == .electra ? .preTraining : .maskedLM)
    }

    /// The architecture for a class name, with or without the `LSG` prefix.
    public func architecture(named name: String) -> Architecture? {
        let plain = name.hasPrefix("LSG") ? String(name.dropFirst(3)) : name
        return architectures.first { $0.className == plain }
    }

    /// `auto_map` of the LSG config: which remote class each transformers Auto class loads.
    public var autoMap: [(autoClass: String, lsgClass: String)] {
        var entries: [(String, String)] = [("AutoConfig", "\(lsgModule).LSG\(classStem)Config")]
        for head in Architecture.Head.allCases where head.isAvailable(in: self) {
            entries.append((head.autoClass, "\(lsgModule).LSG\(Architecture(family: self, head: head).className)"))
        }
        return entries.sorted { $0.0 < $1.0 }
    }
}

/// One model class of a family (base model or a task head) and the tensors it owns
/// besides the encoder's.
public struct Architecture: Sendable, Hashable {
    public enum Head: String, Sendable, CaseIterable {
        case base, maskedLM, causalLM, preTraining, multipleChoice, questionAnswering
        case sequenceClassification, tokenClassification

        func isAvailable(in family: ModelFamily) -> Bool {
            switch self {
            case .preTraining: return family == .bert || family == .electra
            case .causalLM: return family != .distilbert
            default: return true
            }
        }

        /// The transformers Auto class that loads this head.
        public var autoClass: String {
            switch self {
            case .base: return "AutoModel"
            case .maskedLM: return "AutoModelForMaskedLM"
            case .causalLM: return "AutoModelForCausalLM"
            case .preTraining: return "AutoModelForPreTraining"
            case .multipleChoice: return "AutoModelForMultipleChoice"
            case .questionAnswering: return "AutoModelForQuestionAnswering"
            case .sequenceClassification: return "AutoModelForSequenceClassification"
            case .tokenClassification: return "AutoModelForTokenClassification"
            }
        }
    }

    public let family: ModelFamily
    public let head: Head

    public init(family: ModelFamily, head: Head) {
        self.family = family
        self.head = head
    }

    /// The transformers class name, e.g. `CamembertForMaskedLM`, `BertLMHeadModel`.
    public var className: String {
        let stem = family.classStem
        switch head {
        case .base: return "\(stem)Model"
        case .maskedLM: return "\(stem)ForMaskedLM"
        case .causalLM: return family == .bert ? "\(stem)LMHeadModel" : "\(stem)ForCausalLM"
        case .preTraining: return "\(stem)ForPreTraining"
        case .multipleChoice: return "\(stem)ForMultipleChoice"
        case .questionAnswering: return "\(stem)ForQuestionAnswering"
        case .sequenceClassification: return "\(stem)ForSequenceClassification"
        case .tokenClassification: return "\(stem)ForTokenClassification"
        }
    }

    /// The class of the converted model, e.g. `LSGCamembertForMaskedLM`.
    public var lsgClassName: String { "LSG" + className }

    public var isBase: Bool { head == .base }

    /// The prefix of encoder tensors in a checkpoint of this class ("" or "roberta.").
    public var encoderPrefix: String { isBase ? "" : family.basePrefix + "." }

    /// Whether the class builds the encoder with its pooler (DistilBERT and ELECTRA have none).
    public var hasPooler: Bool {
        if family == .distilbert || family == .electra { return false }
        switch head {
        case .base, .multipleChoice: return true
        case .preTraining, .sequenceClassification: return family == .bert
        case .maskedLM, .causalLM, .questionAnswering, .tokenClassification: return false
        }
    }

    /// Tensors of the head, as stored by transformers (tied copies excluded).
    public var headTensors: [String] {
        switch family {
        case .distilbert: return distilBERTHeadTensors
        case .electra: return electraHeadTensors
        default: break
        }
        func linear(_ name: String) -> [String] { ["\(name).weight", "\(name).bias"] }
        let bertLMHead = ["cls.predictions.bias"] + linear("cls.predictions.transform.dense")
            + linear("cls.predictions.transform.LayerNorm")
        switch (head, family) {
        case (.base, _): return []
        case (.maskedLM, .bert), (.causalLM, .bert): return bertLMHead
        case (.preTraining, _): return bertLMHead + linear("cls.seq_relationship")
        case (.maskedLM, _), (.causalLM, _):
            return ["lm_head.bias"] + linear("lm_head.dense") + linear("lm_head.layer_norm")
        case (.sequenceClassification, .bert): return linear("classifier")
        case (.sequenceClassification, _): return linear("classifier.dense") + linear("classifier.out_proj")
        case (.multipleChoice, _), (.tokenClassification, _): return linear("classifier")
        case (.questionAnswering, _): return linear("qa_outputs")
        }
    }

    /// Every tensor the LSG class stores, in the order of its `state_dict` (the order
    /// transformers shards in): embeddings with the global table, the embedding projection
    /// (ELECTRA with `embedding_size` != `hidden_size`), layers, pooler, head.
    public func storedTensors(numHiddenLayers: Int, tieWordEmbeddings: Bool, projectsEmbeddings: Bool = false) -> [String] {
        let prefix = encoderPrefix
        let tensors = family.encoderTensorNames
        var names = tensors.embeddingTensors.map { prefix + $0 }
        if projectsEmbeddings, let projection = tensors.embeddingProjection {
            names += [prefix + projection + ".weight", prefix + projection + ".bias"]
        }
        for layer in 0..<numHiddenLayers {
            names += tensors.layerTensors(layer).map { prefix + $0 }
        }
        if hasPooler { names += ["\(prefix)pooler.dense.weight", "\(prefix)pooler.dense.bias"] }
        var head = headTensors
        if !tieWordEmbeddings, let decoder = tiedDecoderWeight {
            let module = String(decoder.dropLast(".weight".count))
            if let bias = head.firstIndex(of: module + ".bias") {
                head.insert(decoder, at: bias)  // a plain Linear: weight, then bias
            } else {
                let lmHeadEnd = head.lastIndex { $0.hasPrefix(family == .bert ? "cls.predictions." : "lm_head.") } ?? head.count - 1
                head.insert(decoder, at: lmHeadEnd + 1)
            }
        }
        return names + head
    }

    /// The output-embedding matrix tied to the word embeddings (not stored when tied).
    public var tiedDecoderWeight: String? {
        switch (head, family) {
        case (.maskedLM, .distilbert): return "vocab_projector.weight"
        case (.maskedLM, .electra), (.causalLM, .electra): return "generator_lm_head.weight"
        case (_, .distilbert), (_, .electra): return nil
        case (.maskedLM, _), (.causalLM, _), (.preTraining, _):
            return family == .bert ? "cls.predictions.decoder.weight" : "lm_head.decoder.weight"
        default: return nil
        }
    }

    /// Every name of the class's `state_dict`, tied copies included, in its order: what
    /// transformers matches a checkpoint against (`ClassStateDict`).
    public func stateDictNames(numHiddenLayers: Int, projectsEmbeddings: Bool = false) -> [String] {
        var names = storedTensors(numHiddenLayers: numHiddenLayers, tieWordEmbeddings: false, projectsEmbeddings: projectsEmbeddings)
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
        if tieWordEmbeddings, let decoder = tiedDecoderWeight {
            groups.append([encoderPrefix + family.encoderTensorNames.wordEmbeddings, decoder])
        }
        return groups
    }

    /// Head tensors that share storage with another head tensor, by stored name: a source
    /// may hold either name, transformers writes only the stored one.
    public var tiedAliases: [String: String] {
        if family == .distilbert || family == .electra { return [:] }
        switch head {
        case .maskedLM, .causalLM, .preTraining:
            return family == .bert
                ? ["cls.predictions.bias": "cls.predictions.decoder.bias"]
                : ["lm_head.bias": "lm_head.decoder.bias"]
        default: return [:]
        }
    }
}
