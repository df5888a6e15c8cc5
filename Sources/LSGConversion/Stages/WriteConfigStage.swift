import Checkpoint
import FileIO
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// Writes the LSG `config.json`: the source config with the LSG settings (the options over the
/// source's settings for an LSG source, else over the defaults), the LSG architecture,
/// `auto_map` for the family and `max_position_embeddings` with the offset, every other key as
/// transformers saves a config it loaded (`TransformersConfig`). Formatted as transformers
/// writes it: indent 2, sorted keys (`id2label` by number), ASCII escapes, trailing newline.
public struct WriteConfigStage: Stage {
    public static let stageName = "write-config"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let target = try context.requireArchitecture()
        let source = try context.requireSource()
        var config = try context.requireOutputConfig().savedByTransformers(name: source.url.appendingPathComponent("config.json").path)
        let lsg = context.options.lsgConfig(over: (context.sourceIsLSG ? config.lsg : nil) ?? LSGConfig())
        if let problem = lsg.problems.first { throw LSGError(.invalidOption, "LSG settings: \(problem)") }

        config.lsg = lsg
        config.architectures = [target.lsgClassName]
        config["auto_map"] = .object(JSONObject(target.family.autoMap.map { ($0.autoClass, JSONValue.string($0.lsgClass)) }))
        config["_name_or_path"] = .string(context.options.source)
        // save_pretrained writes the dtype of the model, which transformers builds in float32.
        config["torch_dtype"] = .string(Self.torchName(context.options.dtype ?? .f32))
        if let positions = context.tensors[target.encoderPrefix + target.family.encoderTensorNames.positionEmbeddings],
           positions.shape.first != target.family.facts.positionRows(maxPositionEmbeddings: config.maxPositionEmbeddings) {
            throw LSGError(.shapeMismatch, "config max_position_embeddings \(config.maxPositionEmbeddings) does not match the \(positions.shape[0])-row position table (run extend-positions)")
        }
        context.outputConfig = config
        try context.write(Self.serialize(config), as: "config.json", role: "LSG config")
        if target.canGenerate {
            let sourceFile = source.url.appendingPathComponent("generation_config.json")
            let loaded = FileManager.default.fileExists(atPath: sourceFile.path)
                ? try JSONValue.load(contentsOf: sourceFile).objectValue ?? JSONObject() : nil
            let generation = GenerationConfigFile.saved(sourceFile: loaded, modelConfig: config.json)
            try context.write(Self.serialize(ModelConfig(json: .object(generation), name: "generation_config.json")),
                              as: "generation_config.json",
                              role: loaded == nil ? "generation settings of the config" : "generation config (from the source)")
        }
        context.report.changes.append("config: \(target.lsgClassName), block \(lsg.blockSize)/\(lsg.sparseBlockSize), factor \(lsg.sparsityFactor), sparsity \(lsg.sparsityType.rawValue), \(lsg.numGlobalTokens) global token(s), mask_first_token \(lsg.maskFirstToken)")
    }

    /// `config.json` as transformers writes it.
    public static func serialize(_ config: ModelConfig) -> Data {
        let sorted = JSONValue.object(config.json).sortedLikePython(integerKeyedObjects: ["id2label"])
        return Data((sorted.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: true) + "\n").utf8)
    }

    static func torchName(_ dtype: DType) -> String {
        switch dtype {
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        case .f64: return "float64"
        default: return "float32"
        }
    }
}
