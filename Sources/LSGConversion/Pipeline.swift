import Foundation
import LSGErrors

/// Runs stages in order over one context, timing each. The first failure stops the run; its
/// message names the stage when the stage did not say where it failed.
public struct Pipeline {
    public let stages: [any Stage]

    public init(stages: [any Stage]) {
        self.stages = stages
    }

    public init(recipe: Recipe, registry: StageRegistry = .shared) throws {
        stages = try recipe.makeStages(registry: registry)
    }

    public var stageNames: [String] { stages.map(\.name) }

    public func run(_ context: ConversionContext) throws {
        context.stageNames = stageNames
        for stage in stages {
            context.currentStage = stage.name
            let start = DispatchTime.now()
            do {
                try stage.run(context)
            } catch let error as LSGError {
                throw error
            } catch let error as CustomStringConvertible {
                throw LSGError(.internal, "\(error.description)")
            } catch {
                throw LSGError(.internal, "stage '\(stage.name)' failed: \(error.localizedDescription)")
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            context.report.stages.append(.init(name: stage.name, seconds: seconds))
        }
        context.currentStage = ""
    }
}
