import Checkpoint
import Foundation
import LSGErrors

/// Checks the source config: a supported family (and the recipe's, when it names one) and
/// absolute position embeddings, which LSG attention needs. Starts the output config from it.
public struct ReadConfigStage: Stage {
    public static let stageName = "read-config"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let source = try context.requireSource()
        let config = source.config
        let file = source.url.appendingPathComponent("config.json").path
        guard var family = config.family else {
            let supported = ModelFamily.allCases.map(\.rawValue).joined(separator: ", ")
            let type = config.modelType.isEmpty ? "no model_type" : "model_type '\(config.modelType)'"
            throw LSGError(.unsupported, "\(file): \(type) is not supported (supported: \(supported))")
        }
        // A recipe may name a family that shares the model type (BARThez for an mBART checkpoint).
        if let expected = context.recipe.family, expected != family, expected.modelType == family.modelType {
            family = expected
        }
        if let expected = context.recipe.family, expected != family {
            throw LSGError(.invalidOption, "\(file): model_type '\(config.modelType)' does not match recipe '\(context.recipe.name)' (for \(expected.rawValue))")
        }
        guard config.positionEmbeddingType == "absolute" else {
            throw LSGError(.unsupported, "\(file): position_embedding_type '\(config.positionEmbeddingType)' is not supported; LSG attention needs absolute position embeddings")
        }
        context.family = family
        context.sourceIsLSG = config.isLSG
        context.outputConfig = config
    }
}
