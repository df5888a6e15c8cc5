import Foundation
import SafeTensors

extension CheckpointInspection {
    /// The module a tensor belongs to in the table: `encoder.layer.N` for layer weights,
    /// otherwise the name without its last two components (`embeddings`, `lm_head`, `bert.pooler`).
    public static func moduleName(of tensorName: String) -> String {
        let parts = tensorName.split(separator: ".", omittingEmptySubsequences: false)
        if let layer = parts.indices.dropLast(2).first(where: {
            parts[$0] == "encoder" && parts[$0 + 1] == "layer" && Int(parts[$0 + 2]) != nil
        }) {
            return parts[...(layer + 2)].joined(separator: ".")
        }
        return parts.prefix(max(parts.count - 2, 1)).joined(separator: ".")
    }

    /// The human view: tensors grouped by module, then totals per dtype and the config summary.
    /// `provenance` describes where a tensor came from (from a conversion's manifest), when known.
    public func renderTable(provenance: (String) -> String? = { _ in nil }) -> String {
        var lines: [String] = []
        lines.append("files: " + files.joined(separator: ", "))
        let origins = tensors.map { provenance($0.name) }
        let showProvenance = origins.contains { $0 != nil }
        let rows = zip(tensors, origins).map { tensor, origin in
            [
                tensor.name, tensor.dtype.rawValue, "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]",
                Self.grouped(tensor.parameters), Self.grouped(tensor.bytes), String(tensor.sha256.prefix(12)),
            ] + (showProvenance ? [origin ?? "-"] : [])
        }
        let header = ["name", "dtype", "shape", "params", "bytes", "sha256"] + (showProvenance ? ["provenance"] : [])
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                // Names, dtypes and shapes read left to right; counts line up on the right.
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return (3...4).contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        // Totals per module in one pass (a module's tensors need not be adjacent in file order).
        let modules = tensors.map { Self.moduleName(of: $0.name) }
        var moduleTotals: [String: (tensors: Int, parameters: Int)] = [:]
        for (module, tensor) in zip(modules, tensors) {
            moduleTotals[module, default: (0, 0)].tensors += 1
            moduleTotals[module, default: (0, 0)].parameters += tensor.parameters
        }
        var currentModule: String?
        lines.append("")
        lines.append("  " + format(header))
        for (module, row) in zip(modules, rows) {
            if module != currentModule {
                let totals = moduleTotals[module]!
                lines.append("\(module) (\(totals.tensors) tensors, \(Self.grouped(totals.parameters)) params)")
                currentModule = module
            }
            lines.append("  " + format(row))
        }
        lines.append("")
        lines.append("total: \(tensors.count) tensors, \(Self.grouped(totalParameters)) parameters, \(Self.grouped(totalBytes)) bytes")
        let byDtype = Dictionary(grouping: tensors, by: \.dtype).sorted { $0.key.rawValue < $1.key.rawValue }
        for (dtype, members) in byDtype {
            let bytes = members.reduce(0) { $0 + $1.bytes }
            let parameters = members.reduce(0) { $0 + $1.parameters }
            lines.append("  \(dtype.rawValue): \(members.count) tensors, \(Self.grouped(parameters)) parameters, \(Self.grouped(bytes)) bytes")
        }
        if let metadata, !metadata.isEmpty {
            lines.append("metadata: " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        if let config {
            lines.append("")
            lines.append(contentsOf: Self.summary(of: config))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func summary(of config: ModelConfig) -> [String] {
        var lines = [
            "config: \(config.modelType.isEmpty ? "(no model_type)" : config.modelType)"
                + (config.architectures.map { " " + $0.joined(separator: ", ") } ?? ""),
            "  hidden \(config.hiddenSize), layers \(config.numHiddenLayers), heads \(config.numAttentionHeads), "
                + "intermediate \(config.intermediateSize), vocab \(config.vocabSize), "
                + "max positions \(config.maxPositionEmbeddings)",
        ]
        if let lsg = config.lsg {
            lines.append(
                "  LSG: block \(lsg.blockSize), sparse block \(lsg.sparseBlockSize), factor \(lsg.sparsityFactor), "
                    + "type \(lsg.sparsityType.rawValue), global tokens \(lsg.numGlobalTokens), "
                    + "mask first token \(lsg.maskFirstToken), pool with global \(lsg.poolWithGlobal), adaptive \(lsg.adaptive)")
        }
        return lines
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return String(self[..<end])
    }
}
