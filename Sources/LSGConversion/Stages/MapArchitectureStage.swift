import Checkpoint
import Foundation
import LSGEncoder
import SafeTensors

/// Chooses the LSG class (`--architecture`, else the first of `config.json`, else the family's
/// default) and plans every tensor that class stores, in its `state_dict` order, from the
/// source's tensors: encoder weights move between the root and `roberta.`/`bert.` as the
/// class needs, tied copies and buffers (`*.position_ids`) are dropped, and encoder tensors
/// the source lacks are an error. A pooler or head the source lacks is initialised as
/// transformers does for a new module (random normal, zero bias, unit LayerNorm).
public struct MapArchitectureStage: Stage {
    public static let stageName = "map-architecture"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let source = try context.requireSource()
        let config = try context.requireOutputConfig()
        guard let family = context.family else { throw ConversionError("stage '\(name)' needs read-config first") }
        let store = source.tensors

        let requested = context.options.architecture ?? config.architectures?.first ?? family.defaultArchitecture.className
        guard let target = family.architecture(named: requested) else {
            let known = family.architectures.map(\.className).joined(separator: ", ")
            throw ConversionError("architecture '\(requested)' is not a \(family.rawValue) class (one of \(known), optionally with the LSG prefix)")
        }
        context.targetArchitecture = target
        context.sourceArchitecture = config.namedArchitecture

        let loading: ClassStateDict
        do {
            loading = try ClassStateDict(
                expected: target.stateDictNames(numHiddenLayers: config.numHiddenLayers, projectsEmbeddings: config.projectsEmbeddings),
                tiedGroups: target.tiedGroups(tieWordEmbeddings: config.tieWordEmbeddings),
                basePrefix: family.basePrefix, checkpoint: store.names, identical: store.holdSameValues)
        } catch {
            throw ConversionError("\(source.url.path): tensor '\(error.name)' belongs to \(target.className)'s own modules but the encoder's tensors have no '\(family.basePrefix).' prefix; transformers refuses such a checkpoint too (\"The state dictionary of the model you are trying to load is corrupted\")")
        }

        let stored = target.storedTensors(numHiddenLayers: config.numHiddenLayers, tieWordEmbeddings: config.tieWordEmbeddings,
                                          projectsEmbeddings: config.projectsEmbeddings)
        let headNames = Set(target.headTensors + (target.tiedDecoderWeight.map { [$0] } ?? []))
        let globalName = target.encoderPrefix + "embeddings.global_embeddings.weight"
        let poolerPrefix = target.encoderPrefix + "pooler."
        let wordName = target.encoderPrefix + family.encoderTensorNames.wordEmbeddings
        guard loading.sources[wordName] != nil else {
            throw ConversionError("\(source.url.path): missing tensor \(wordName) (nor \(family.encoderTensorNames.wordEmbeddings) at the root)")
        }

        var missing: [String] = []
        var initialized: [String] = []
        context.tensors.removeAll()
        for outputName in stored {
            if let sourceName = loading.sources[outputName], let info = store.info(sourceName) {
                let operation = sourceName == outputName ? "copied" : "renamed"
                let legacy = store.nameInFile(sourceName).map { "stored as \($0) in the checkpoint" }
                context.tensors.set(PlannedTensor(
                    name: outputName, dtype: context.options.dtype ?? .f32, shape: info.shape,
                    content: .source(sourceName),
                    provenance: context.provenance(operation, [sourceName], legacy)))
            } else if outputName == globalName {
                // Planned here to keep its place in the state_dict order; a later stage fills it.
                context.tensors.set(PlannedTensor(
                    name: outputName, dtype: context.options.dtype ?? .f32, shape: [512, config.embeddingSize],
                    content: .computed { throw ConversionError("\(globalName) was not initialised: the recipe has no add-global-embeddings stage") },
                    provenance: context.provenance("pending", [])))
            } else if headNames.contains(outputName) || outputName.hasPrefix(poolerPrefix),
                      let shape = Self.newModuleShape(outputName, architecture: target, config: config) {
                initialized.append(outputName)
                context.tensors.set(Self.newModuleTensor(
                    outputName, shape: shape, dtype: context.options.dtype ?? .f32,
                    config: config, seed: context.options.seed, provenance: context.provenance(
                        "initialized", [], "new \(target.className) module, as transformers initialises it (random)")))
            } else {
                missing.append(outputName)
            }
        }
        if !missing.isEmpty {
            let shown = missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? " and \(missing.count - 3) more" : "")
            throw ConversionError("\(source.url.path): missing \(missing.count) tensor(s) \(target.className) needs: \(shown) (transformers would initialise encoder weights at random; we refuse)")
        }
        try Self.checkEmbeddingShapes(context, config: config, prefix: target.encoderPrefix, source: source)

        let renamedLegacy = store.names.filter { store.nameInFile($0) != nil }.count
        let rules = loading.applied.filter { $0 != .unexpectedUnused && $0 != .missingInitialised }
            + (renamedLegacy > 0 ? [.legacyNormNames] : [])
        if !rules.isEmpty {
            let described = rules.map { rule in
                rule == .legacyNormNames ? "\(rule.summary) (\(renamedLegacy) tensors)" : rule.summary
            }
            context.report.changes.append("loaded as transformers 4.36 loads it: \(described.joined(separator: "; "))")
        }
        let dropped = loading.unused
        let lsgName = target.lsgClassName
        let from = context.sourceArchitecture?.className ?? "no architecture"
        context.report.changes.append("architecture: \(from) -> \(lsgName) (\(context.tensors.count) tensors)")
        if !dropped.isEmpty {
            context.report.changes.append("dropped \(dropped.count) source tensor(s) \(lsgName) does not store: \(dropped.joined(separator: ", "))")
        }
        if !initialized.isEmpty {
            context.report.warnings.append("the source has no \(initialized.joined(separator: ", ")): initialised at random, as transformers would (the reference does not seed torch, so no one can reproduce its values; ours come from --seed \(context.options.seed)); train before use")
        }
    }

    private static func checkEmbeddingShapes(_ context: ConversionContext, config: ModelConfig, prefix: String,
                                             source: ModelDirectory) throws {
        let hidden = config.embeddingSize
        let expectations: [(String, Int?)] = [
            ("word_embeddings.weight", config.vocabSize), ("token_type_embeddings.weight", config.typeVocabSize),
            ("position_embeddings.weight", nil),
        ]
        for (suffix, rows) in expectations {
            guard let tensor = context.tensors[prefix + "embeddings." + suffix] else { continue }
            let ok = tensor.shape.count == 2 && tensor.shape[1] == hidden && (rows == nil || tensor.shape[0] == rows)
            guard ok else {
                let expected = "[\(rows.map(String.init) ?? "rows"), \(hidden)]"
                throw ConversionError("\(source.url.path): tensor \(tensor.provenance.inputs.first ?? tensor.name) has shape \(tensor.shape), config.json implies \(expected)")
            }
        }
    }

    /// Shapes of pooler and head tensors from the config, as transformers builds them.
    static func newModuleShape(_ name: String, architecture: Architecture, config: ModelConfig) -> [Int]? {
        let head = architecture.head
        let hidden = config.hiddenSize
        let labels = config["id2label"]?.objectValue?.count ?? 2
        let isBias = name.hasSuffix(".bias")
        func linear(_ outputs: Int, inputs: Int = hidden) -> [Int] { isBias ? [outputs] : [outputs, inputs] }
        switch (architecture.family, name) {
        case (.distilbert, "vocab_projector.bias"), (.electra, "generator_lm_head.bias"): return [config.vocabSize]
        case (.distilbert, "vocab_projector.weight"): return [config.vocabSize, hidden]
        case (.electra, "generator_lm_head.weight"): return [config.vocabSize, config.embeddingSize]
        case (.electra, _) where name.hasPrefix("generator_predictions.LayerNorm."): return [config.embeddingSize]
        case (.electra, _) where name.hasPrefix("generator_predictions.dense."): return linear(config.embeddingSize)
        case (.electra, _) where name.hasPrefix("discriminator_predictions.dense_prediction."): return linear(1)
        case (.electra, _) where name.hasPrefix("sequence_summary.summary."): return linear(hidden)
        case (.distilbert, _) where name.hasPrefix("pre_classifier."): return linear(hidden)
        default: break
        }
        switch name {
        case "lm_head.bias", "cls.predictions.bias": return [config.vocabSize]
        case "lm_head.decoder.weight", "cls.predictions.decoder.weight": return [config.vocabSize, hidden]
        case _ where name.contains("LayerNorm") || name.contains("layer_norm"): return [hidden]
        case _ where name.hasPrefix("cls.seq_relationship."): return linear(2)
        case _ where name.hasPrefix("classifier.out_proj."): return linear(labels)
        case _ where name.hasPrefix("classifier.dense."): return linear(hidden)
        case "classifier.weight", "classifier.bias": return linear(head == .multipleChoice ? 1 : labels)
        case _ where name.hasPrefix("qa_outputs."): return linear(labels)
        case _ where name.contains("dense."): return linear(hidden)
        default: return nil
        }
    }

    static func newModuleTensor(_ name: String, shape: [Int], dtype: DType, config: ModelConfig, seed: UInt64,
                                provenance: Provenance) -> PlannedTensor {
        let count = shape.reduce(1, *)
        let isNorm = name.contains("LayerNorm") || name.contains("layer_norm")
        let std = config["initializer_range"]?.doubleValue ?? 0.02
        let values: @Sendable () throws -> [Float]
        if name.hasSuffix(".weight") && !isNorm {
            values = {
                var normal = SeededNormal(seed: seed, stream: name)
                return (0..<count).map { _ in Float(normal.next() * std) }
            }
        } else {
            let fill: Float = isNorm && name.hasSuffix(".weight") ? 1 : 0
            values = { [Float](repeating: fill, count: count) }
        }
        return PlannedTensor(name: name, dtype: dtype, shape: shape, content: .computed(values), provenance: provenance)
    }
}
