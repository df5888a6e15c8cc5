import Checkpoint
import Foundation
import LSGErrors

/// Resizes the position table to `max_length` positions plus the family offset by the
/// reference's rule: keep the offset rows, then repeat the position rows
/// `max_length / rows + 1` times (rows counting the offset rows), and cut to
/// `max_length + offset`. Rows are gathered from the source bytes, so the result is exact in
/// any dtype.
public struct ExtendPositionsStage: Stage {
    public static let stageName = "extend-positions"
    public var name: String { Self.stageName }

    public init() {}

    /// The source row of each output row.
    public static func tiledRows(sourceRows: Int, offset: Int, maxLength: Int) -> [Int] {
        let positions = Array(offset..<sourceRows)
        let copies = maxLength / sourceRows + 1
        let rows = Array(0..<offset) + Array(repeatElement(positions, count: copies).joined())
        return Array(rows.prefix(maxLength + offset))
    }

    public func run(_ context: ConversionContext) throws {
        let target = try context.requireArchitecture()
        var config = try context.requireOutputConfig()
        let offset = target.family.positionOffset
        let name = target.encoderPrefix + target.family.encoderTensorNames.positionEmbeddings
        guard let table = context.tensors[name], case .source(let sourceName) = table.content, table.shape.count == 2 else {
            throw LSGError(.invalidOption, "stage '\(self.name)': no source position table \(name) in the plan")
        }
        let sourceRows = table.shape[0]
        guard sourceRows > offset else {
            throw LSGError(.malformed, "\(sourceName) has \(sourceRows) rows, no position beyond the \(offset) offset rows")
        }
        let maxLength = context.options.maxLength
        let rows = Self.tiledRows(sourceRows: sourceRows, offset: offset, maxLength: maxLength)
        guard rows.count == maxLength + offset else {
            throw LSGError(.invalidOption, "tiling \(sourceRows - offset) positions gives \(rows.count - offset) rows by the reference's rule, fewer than --max-length \(maxLength)")
        }
        let identity = rows == Array(0..<sourceRows)
        var resized = table
        resized.shape = [rows.count, table.shape[1]]
        resized.content = identity ? .source(sourceName) : .rows(of: sourceName, indices: rows)
        resized.provenance = identity
            ? table.provenance
            : context.provenance(rows.count > sourceRows ? "tiled" : "truncated", [sourceName],
                                 "\(offset) offset rows kept, positions \(offset)..<\(sourceRows) repeated to \(rows.count) rows")
        context.tensors.set(resized)
        config.maxPositionEmbeddings = maxLength + offset
        context.outputConfig = config
        context.report.changes.append("position table: \(sourceRows) -> \(rows.count) rows (max_position_embeddings \(maxLength + offset))")
    }
}
