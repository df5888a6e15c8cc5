import Checkpoint
import Foundation
import LSGErrors
import SafeTensors

/// Reads the written output back and checks it against the plan: every tensor present with
/// the planned dtype and shape and no other, every float value finite, `config.json` readable
/// with a position table of `max_position_embeddings` rows. All problems are collected before
/// failing. Skipped in a dry run. Recipes can add stronger checks as their own stages.
public struct ValidateStage: Stage {
    public static let stageName = "validate"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        guard let directory = context.stagingDirectory else { return }
        let target = try context.requireArchitecture()
        var problems: [String] = []
        let config = try ModelConfig.load(from: directory.appendingPathComponent("config.json"))
        let output = try TensorStore(directory: directory)
        let planned = context.tensors.tensors
        var present: [String] = []
        for tensor in planned {
            guard let info = output.info(tensor.name) else {
                problems.append("\(tensor.name): missing from the output")
                continue
            }
            if info.dtype != tensor.dtype || info.shape != tensor.shape {
                problems.append("\(tensor.name): \(info.dtype.rawValue) \(info.shape), planned \(tensor.dtype.rawValue) \(tensor.shape)")
                continue
            }
            present.append(tensor.name)
        }
        // Counted in bounded pieces on every core, so the written tensors do not stay resident.
        let counts = try NonFiniteCount.counts(ofEach: present.map { output.location(of: $0)! }.map { ($0.file, $0.nameInFile) })
        var finiteTensors = 0
        for (name, count) in zip(present, counts) {
            guard let count else { continue }
            if count.isFinite {
                finiteTensors += 1
            } else {
                problems.append("\(name): \(count.summary) values")
            }
        }
        let extra = Set(output.names).subtracting(planned.map(\.name))
        if !extra.isEmpty { problems.append("unplanned tensors in the output: \(extra.sorted().joined(separator: ", "))") }
        let positions = output.info(target.encoderPrefix + target.family.encoderTensorNames.positionEmbeddings)
        if positions?.shape.first != target.family.facts.positionRows(maxPositionEmbeddings: config.maxPositionEmbeddings) {
            problems.append("config.json max_position_embeddings \(config.maxPositionEmbeddings) but the position table has \(positions?.shape.first ?? 0) rows")
        }
        guard problems.isEmpty else {
            throw LSGError(.parityFailure, "validation failed: " + problems.joined(separator: "; "))
        }
        context.report.validation.append("structure: \(planned.count) tensors with the planned dtype and shape, \(finiteTensors) float tensors all finite, config consistent")
    }
}
