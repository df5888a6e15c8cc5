import Checkpoint
import Foundation
import LSGErrors

/// Refuses a source whose tensors that outputs are computed from (the position table that is
/// tiled, the position, word and token-type embeddings the global rows are made of: every input
/// of a planned tensor that is not a plain copy) hold NaN or infinite values, which every
/// computed row would inherit. `--allow-non-finite` turns the refusal into a warning. Runs
/// after the stages that plan computed tensors, before anything is written.
public struct CheckFiniteStage: Stage {
    public static let stageName = "check-finite"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let store = try context.requireSource().tensors
        var inputs: [String] = []
        for tensor in context.tensors.tensors {
            switch tensor.content {
            case .source: continue
            case .rows(let name, _): inputs.append(name)
            case .computed: inputs += tensor.provenance.inputs
            }
        }
        var seen: Set<String> = []
        let checked = inputs.filter { seen.insert($0).inserted && store.contains($0) }
        let counts = try NonFiniteCount.counts(ofEach: checked.map { store.location(of: $0)! }.map { ($0.file, $0.nameInFile) })
        let problems = zip(checked, counts).compactMap { name, count -> String? in
            guard let count, !count.isFinite else { return nil }
            return "\(URL(fileURLWithPath: store.location(of: name)!.file.name).path): tensor '\(name)' holds \(count.summary) values"
        }
        guard let first = problems.first else { return }
        if context.options.allowNonFinite {
            context.report.warnings += problems.map { $0 + " (kept: --allow-non-finite)" }
        } else {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more tensors)" : ""
            throw LSGError(.malformed, "\(first)\(more); the converted tensors would inherit them (--allow-non-finite converts anyway)")
        }
    }
}
