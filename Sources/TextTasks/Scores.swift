import Foundation

/// The score functions the pipelines apply to logits.
enum Scores {
    /// exp(x - max) / sum, computed in double precision.
    static func softmax<C: Collection>(_ logits: C) -> [Float] where C.Element == Float {
        let maximum = Double(logits.max() ?? 0)
        let exponentials = logits.map { Foundation.exp(Double($0) - maximum) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { Float($0 / sum) }
    }

    static func sigmoid<C: Collection>(_ logits: C) -> [Float] where C.Element == Float {
        logits.map { Float(1 / (1 + Foundation.exp(-Double($0)))) }
    }

    /// Indices of the `k` largest values, largest first; equal values in index order.
    static func top(_ k: Int, of values: [Float]) -> [Int] {
        let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        return Array(order.prefix(k))
    }
}
