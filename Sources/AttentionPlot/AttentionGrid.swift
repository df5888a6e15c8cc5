import LSGEncoder

/// An attention pattern downsampled into square cells so a picture of a long sequence stays
/// small: each cell covers `positionsPerCell`² query/key pairs and takes the strongest kind
/// among them (global > full > local > sparse > masked > none).
public struct AttentionGrid: Sendable {
    public let positionsPerCell: Int
    public let cellsPerSide: Int
    /// Row-major, `cellsPerSide`² kinds.
    public let cells: [AttentionPattern.Kind]

    /// At most `maxCells` cells per side; one position per cell when the pattern fits.
    public init(_ pattern: AttentionPattern, maxCells: Int) {
        precondition(maxCells > 0)
        let size = pattern.size
        let perCell = (size + maxCells - 1) / maxCells
        let side = (size + perCell - 1) / perCell
        var cells = [AttentionPattern.Kind](repeating: .none, count: side * side)
        for query in 0..<size {
            let row = query / perCell * side
            for run in pattern.runs(ofQuery: query) where !run.keys.isEmpty {
                for column in (run.keys.lowerBound / perCell)...((run.keys.upperBound - 1) / perCell) {
                    cells[row + column] = max(cells[row + column], run.kind)
                }
            }
        }
        positionsPerCell = perCell
        cellsPerSide = side
        self.cells = cells
    }

    public func kind(row: Int, column: Int) -> AttentionPattern.Kind {
        cells[row * cellsPerSide + column]
    }

    /// The kinds present, strongest first.
    public var kindsPresent: [AttentionPattern.Kind] {
        Set(cells).subtracting([.none]).sorted(by: >)
    }
}
