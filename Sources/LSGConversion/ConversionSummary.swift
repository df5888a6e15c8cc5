import Foundation

/// Human-readable views of a finished (or dry-run) conversion.
extension ConversionContext {
    /// The plan: stages, tensors grouped by what happens to them, output files with sizes.
    public func renderPlan() -> String {
        var lines: [String] = []
        lines.append("Plan: \(options.source) -> \(outputDirectory.path)\(isDryRun ? " (dry run: nothing written)" : "")")
        lines.append("Stages: \(stageNames.joined(separator: " -> "))")
        let groups = Dictionary(grouping: tensors.tensors, by: \.provenance.operation)
        let order = ["initialized", "sampled", "tiled", "truncated", "kept", "renamed", "copied", "pending"]
        let operations = order.filter { groups[$0] != nil } + groups.keys.filter { !order.contains($0) }.sorted()
        lines.append("Tensors: \(tensors.count), \(Self.format(bytes: tensors.tensors.reduce(0) { $0 + $1.byteCount }))")
        for operation in operations {
            let members = groups[operation]!
            if operation == "copied" || operation == "renamed" {
                lines.append("  \(operation): \(members.count) tensor(s) unchanged")
                continue
            }
            for tensor in members {
                let detail = tensor.provenance.detail.map { " - \($0)" } ?? ""
                let from = tensor.provenance.inputs.isEmpty ? "" : " from \(tensor.provenance.inputs.joined(separator: ", "))"
                lines.append("  \(operation): \(tensor.name) \(tensor.dtype.rawValue) \(tensor.shape)\(from)\(detail)")
            }
        }
        lines.append("Files:")
        for file in files {
            let size = file.byteCount > 0 ? Self.format(bytes: file.byteCount) : "size known after writing"
            lines.append("  \(file.name)  \(size)  \(file.role)")
        }
        return lines.joined(separator: "\n")
    }

    /// What changed, warnings and the validation result.
    public func renderSummary() -> String {
        var lines = ["Converted \(options.source) -> \(outputDirectory.path)"]
        lines += report.changes.map { "  \($0)" }
        lines += report.warnings.map { "  warning: \($0)" }
        lines += report.validation.map { "  validation: \($0)" }
        let total = report.stages.reduce(0) { $0 + $1.seconds }
        lines.append(String(format: "  %d stages in %.2f s", report.stages.count, total))
        return lines.joined(separator: "\n")
    }

    /// `1.2 MB` style sizes (powers of 1000, like the shard sizes transformers takes).
    public static func format(bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
