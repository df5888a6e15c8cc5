import Foundation
import JSON
import SafeTensors

extension CheckpointDiff {
    /// The human view: one line per difference, then a summary line.
    public func renderText() -> String {
        func layout(_ tensor: Tensor) -> String { "\(tensor.dtype) \(Self.shapeText(tensor.shape))" }
        var lines = ["A: \(a)", "B: \(b)"]
        if isIdentical {
            lines.append("identical: \(unchangedCount) tensors with the same dtype, shape and values")
            return lines.joined(separator: "\n") + "\n"
        }
        lines += removed.map { "removed  \($0.name)  \(layout($0))" }
        lines += added.map { "added    \($0.name)  \(layout($0))" }
        for change in layoutChanges {
            let what = [change.a.dtype != change.b.dtype ? "dtype" : nil, change.a.shape != change.b.shape ? "shape" : nil]
                .compactMap { $0 }.joined(separator: "+")
            lines.append("\(what.padding(toLength: 8, withPad: " ", startingAt: 0)) \(change.name)  \(layout(change.a)) -> \(layout(change.b))")
        }
        for change in valueChanges {
            let difference = change.maxAbsDifference.map { "max abs difference \(Self.numberText($0))" } ?? "bits compared"
            lines.append("values   \(change.tensor.name)  \(layout(change.tensor))  \(change.differingElements) of \(change.elementCount) elements differ, \(difference)")
        }
        lines.append("summary: \(added.count) added, \(removed.count) removed, \(layoutChanges.count) changed in dtype or shape, "
            + "\(valueChanges.count) changed in values, \(unchangedCount) unchanged")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `--json` document: `{"a", "b", "identical", "added", "removed", "changed_layout",
    /// "changed_values", "unchanged"}`. A non-finite max difference is the string "inf" or "nan".
    public var json: JSONValue {
        func tensor(_ tensor: Tensor) -> JSONValue {
            .object(["name": .string(tensor.name), "dtype": .string(tensor.dtype.rawValue), "shape": .array(tensor.shape.map(JSONValue.int))])
        }
        func layout(_ tensor: Tensor) -> JSONValue {
            .object(["dtype": .string(tensor.dtype.rawValue), "shape": .array(tensor.shape.map(JSONValue.int))])
        }
        let values: [JSONValue] = valueChanges.map { change in
            let difference: JSONValue = switch change.maxAbsDifference {
            case nil: .null
            case let value? where value.isFinite: .double(value)
            case let value?: .string(Self.numberText(value))
            }
            return .object([
                "name": .string(change.tensor.name), "dtype": .string(change.tensor.dtype.rawValue),
                "shape": .array(change.tensor.shape.map(JSONValue.int)), "elements": .int(change.elementCount),
                "differing_elements": .int(change.differingElements), "max_abs_difference": difference,
            ])
        }
        return .object([
            "a": .string(a),
            "b": .string(b),
            "identical": .bool(isIdentical),
            "added": .array(added.map(tensor)),
            "removed": .array(removed.map(tensor)),
            "changed_layout": .array(layoutChanges.map { .object(["name": .string($0.name), "a": layout($0.a), "b": layout($0.b)]) }),
            "changed_values": .array(values),
            "unchanged": .int(unchangedCount),
        ])
    }

    static func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    static func numberText(_ value: Double) -> String {
        value.isNaN ? "nan" : value.isInfinite ? "inf" : String(format: "%.6g", value)
    }
}
