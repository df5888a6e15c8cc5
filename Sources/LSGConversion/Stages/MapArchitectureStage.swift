import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors
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
        guard let family = context.family else { throw LSGError(.invalidOption, "stage '\(name)' needs read-config first") }
        let store = source.tensors

        let requested = context.options.architecture ?? config.architectures?.first ?? family.defaultArchitecture.className
        guard let target = family.architecture(named: requested) else {
            let known = family.architectures.map(\.className).joined(separator: ", ")
            throw LSGError(.invalidOption, "architecture '\(requested)' is not a \(family.rawValue) class (one of \(known), optionally with the LSG prefix)")
        }
        if let refusal = target.refusal { throw LSGError(.unsupported, "\(source.url.path): architecture \(requested): \(refusal)") }
        context.targetArchitecture = target
        context.sourceArchitecture = config.namedArchitecture

        let loading: ClassStateDict
        do {
            loading = try ClassStateDict(
                expected: target.stateDictNames(layers: config.layerSharing, projectsEmbeddings: config.projectsEmbeddings),
                tiedGroups: target.tiedGroups(tieWordEmbeddings: config.tieWordEmbeddings),
                basePrefix: family.basePrefix, checkpoint: store.names, identical: store.holdSameValues)
        } catch {
            throw LSGError(.malformed, "\(source.url.path): tensor '\(error.name)' belongs to \(target.className)'s own modules but the encoder's tensors have no '\(family.basePrefix).' prefix; transformers refuses such a checkpoint too (\"The state dictionary of the model you are trying to load is corrupted\")")
        }

        let stored = target.storedTensors(layers: config.layerSharing, tieWordEmbeddings: config.tieWordEmbeddings,
                                          projectsEmbeddings: config.projectsEmbeddings)
        let globalName = target.encoderPrefix + family.encoderTensorNames.globalEmbeddings
        let wordName = target.encoderPrefix + family.encoderTensorNames.wordEmbeddings
        guard loading.sources[wordName] != nil else {
            throw LSGError(.missingTensor, "\(source.url.path): missing tensor \(wordName) (nor \(family.encoderTensorNames.wordEmbeddings) at the root)")
        }

        var missing: [String] = []
        var initialized: [String] = []
        var zeroed: [String] = []
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
                    content: .computed { throw LSGError(.invalidOption, "\(globalName) was not initialised: the recipe has no add-global-embeddings stage") },
                    provenance: context.provenance("pending", [])))
            } else if let shape = target.newModuleShape(of: outputName, config: config) {
                let random = Self.isRandomlyInitialised(outputName)
                if random { initialized.append(outputName) } else { zeroed.append(outputName) }
                context.tensors.set(Self.newModuleTensor(
                    outputName, shape: shape, dtype: context.options.dtype ?? .f32,
                    config: config, seed: context.options.seed, provenance: context.provenance(
                        "initialized", [], "new \(target.className) module, as transformers initialises it (\(random ? "random" : "constant"))")))
            } else {
                missing.append(outputName)
            }
        }
        if !missing.isEmpty {
            let shown = missing.prefix(3).joined(separator: ", ") + (missing.count > 3 ? " and \(missing.count - 3) more" : "")
            throw LSGError(.missingTensor, "\(source.url.path): missing \(missing.count) tensor(s) \(target.className) needs: \(shown) (transformers would initialise encoder weights at random; we refuse)")
        }
        try Self.checkEmbeddingShapes(context, config: config, architecture: target, source: source)

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
        if !zeroed.isEmpty {
            context.report.changes.append("the source has no \(zeroed.joined(separator: ", ")): set as transformers initialises it (zeros, unit LayerNorm weights)")
        }
        if !initialized.isEmpty {
            context.report.warnings.append("the source has no \(initialized.joined(separator: ", ")): initialised at random, as transformers would (the reference does not seed torch, so no one can reproduce its values; ours come from --seed \(context.options.seed)); train before use")
        }
    }

    private static func checkEmbeddingShapes(_ context: ConversionContext, config: ModelConfig, architecture: Architecture,
                                             source: ModelDirectory) throws {
        let hidden = config.embeddingSize
        let names = architecture.family.encoderTensorNames
        let expectations: [(String?, Int?)] = [
            (names.wordEmbeddings, config.vocabSize), (names.tokenTypeEmbeddings, config.typeVocabSize),
            (names.positionEmbeddings, nil),
        ]
        for case let (name?, rows) in expectations {
            guard let tensor = context.tensors[architecture.encoderPrefix + name] else { continue }
            let ok = tensor.shape.count == 2 && tensor.shape[1] == hidden && (rows == nil || tensor.shape[0] == rows)
            guard ok else {
                let expected = "[\(rows.map(String.init) ?? "rows"), \(hidden)]"
                throw LSGError(.shapeMismatch, "\(source.url.path): tensor \(tensor.provenance.inputs.first ?? tensor.name) has shape \(tensor.shape), config.json implies \(expected)")
            }
        }
    }

    /// Whether transformers draws a new module's tensor at random (a weight that is not a
    /// LayerNorm's); biases, LayerNorms and buffers such as `final_logits_bias` are constants.
    static func isRandomlyInitialised(_ name: String) -> Bool {
        name.hasSuffix(".weight") && !isNorm(name)
    }

    private static func isNorm(_ name: String) -> Bool { name.contains("LayerNorm") || name.contains("layer_norm") }

    static func newModuleTensor(_ name: String, shape: [Int], dtype: DType, config: ModelConfig, seed: UInt64,
                                provenance: Provenance) -> PlannedTensor {
        let count = shape.reduce(1, *)
        let std = config[config.keys.initializerRange]?.doubleValue ?? 0.02
        let values: @Sendable () throws -> [Float]
        if isRandomlyInitialised(name) {
            values = {
                var normal = SeededNormal(seed: seed, stream: name)
                return (0..<count).map { _ in Float(normal.next() * std) }
            }
        } else {
            let fill: Float = isNorm(name) && name.hasSuffix(".weight") ? 1 : 0
            values = { [Float](repeating: fill, count: count) }
        }
        return PlannedTensor(name: name, dtype: dtype, shape: shape, content: .computed(values), provenance: provenance)
    }
}
