import Checkpoint
import Foundation
import LSGErrors

/// Resizes the position tables (the encoder's, and the decoder's for encoder-decoder families)
/// to `max_length` positions plus the family offset. Learned tables follow the reference's
/// rule: keep the offset rows, then repeat the position rows `max_length / rows + 1` times
/// (rows counting the offset rows), and cut to `max_length + offset`; rows are gathered from
/// the source bytes, so the result is exact in any dtype. Sinusoidal tables (Pegasus) are
/// computed again for the new length, as the reference's `resize_position_embeddings` does.
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
        let family = target.family.facts
        let names = family.encoderTensorNames
        let tables = [names.positionEmbeddings] + (names.decoder.map { [$0.positionEmbeddings] } ?? [])
        let maxLength = context.options.maxLength
        var resizedRows = 0
        for table in tables {
            let name = target.encoderPrefix + table
            if family.encoderDecoder?.positions == .sinusoidal {
                resizedRows = try rebuildSinusoidal(name, rows: maxLength, context: context)
            } else {
                resizedRows = try tile(name, offset: family.positionOffset, maxLength: maxLength, context: context)
            }
        }
        config.maxPositionEmbeddings = family.maxPositionEmbeddings(maxLength: maxLength)
        context.outputConfig = config
        let which = tables.count > 1 ? "position tables (encoder and decoder)" : "position table"
        context.report.changes.append("\(which): -> \(resizedRows) rows (max_position_embeddings \(config.maxPositionEmbeddings))")
    }

    /// Tiles a learned table; returns its new row count.
    private func tile(_ name: String, offset: Int, maxLength: Int, context: ConversionContext) throws -> Int {
        guard let table = context.tensors[name], case .source(let sourceName) = table.content, table.shape.count == 2 else {
            throw LSGError(.invalidOption, "stage '\(self.name)': no source position table \(name) in the plan")
        }
        let sourceRows = table.shape[0]
        guard sourceRows > offset else {
            throw LSGError(.malformed, "\(sourceName) has \(sourceRows) rows, no position beyond the \(offset) offset rows")
        }
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
        return rows.count
    }

    /// Replaces a sinusoidal table by the one for `rows` positions; returns `rows`.
    private func rebuildSinusoidal(_ name: String, rows: Int, context: ConversionContext) throws -> Int {
        guard var table = context.tensors[name], table.shape.count == 2 else {
            throw LSGError(.missingTensor, "stage '\(self.name)': no position table \(name) in the plan")
        }
        let width = table.shape[1]
        table.shape = [rows, width]
        table.content = .computed { SinusoidalPositions.table(rows: rows, width: width) }
        table.provenance = context.provenance("computed", table.provenance.inputs,
                                              "sinusoidal table for \(rows) positions (the source's is replaced, as resize_position_embeddings does)")
        context.tensors.set(table)
        return rows
    }
}
