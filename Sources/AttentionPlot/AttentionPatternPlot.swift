import Checkpoint
import Foundation
import LSGEncoder

/// The SVG picture of an attention pattern, in the manner of the LSG paper's figure: queries
/// down, keys across, one colour per kind of attention, with a title, axis labels, ticks at
/// token positions and a legend saying what each colour means for this configuration.
public struct AttentionPatternPlot: Sendable {
    public let pattern: AttentionPattern
    public let grid: AttentionGrid
    /// Side of the matrix in SVG units.
    public let matrixSide: Double
    /// Top-left corner of the matrix.
    public let matrixX: Double = 90
    public let matrixY: Double = 92

    /// Default cell budget: a 16384-token pattern stays well under 1 MB.
    public static let defaultMaxCells = 400

    public init(_ pattern: AttentionPattern, maxCells: Int = defaultMaxCells, matrixSide: Double = 640) {
        self.pattern = pattern
        grid = AttentionGrid(pattern, maxCells: maxCells)
        self.matrixSide = matrixSide
    }

    /// Side of one cell in SVG units.
    public var cellSide: Double { matrixSide / Double(grid.cellsPerSide) }

    /// The fill colour of each kind (white for keys not attended).
    public static func colour(of kind: AttentionPattern.Kind) -> String {
        switch kind {
        case .none: return "#ffffff"
        case .masked: return "#bdbdbd"
        case .sparse: return "#2ca02c"
        case .local: return "#1f77b4"
        case .full: return "#9467bd"
        case .global: return "#ff7f0e"
        }
    }

    public static func name(of kind: AttentionPattern.Kind) -> String {
        switch kind {
        case .none: return "none"
        case .masked: return "masked"
        case .sparse: return "sparse"
        case .local: return "local"
        case .full: return "full"
        case .global: return "global"
        }
    }

    /// The whole picture as an SVG document.
    public func svg() -> String {
        let legend = legendLines()
        let width = max(matrixX + matrixSide + 40, 820)
        let legendTop = matrixY + matrixSide + 62
        var document = SVGDocument(width: width, height: legendTop + Double(legend.count) * 20 + 16)
        document.rect(x: 0, y: 0, width: document.width, height: document.height, fill: "#ffffff")
        document.text(title, x: 16, y: 24, ["font-size": "16", "font-weight": "bold"])
        for (index, line) in subtitle.enumerated() {
            document.text(line, x: 16, y: 46 + Double(index) * 16, ["font-size": "12"])
        }

        document.rect(x: matrixX, y: matrixY, width: matrixSide, height: matrixSide, fill: Self.colour(of: .none),
                      ["stroke": "#444444", "stroke-width": "1"])
        drawCells(into: &document)
        drawPaddingLines(into: &document)
        drawTicks(into: &document)
        document.text("key position (token index)", x: matrixX + matrixSide / 2, y: matrixY + matrixSide + 40,
                      ["text-anchor": "middle"])
        let labelX = matrixX - 56, labelY = matrixY + matrixSide / 2
        document.text("query position (token index)", x: labelX, y: labelY,
                      ["text-anchor": "middle", "transform": "rotate(-90 \(SVGDocument.number(labelX)) \(SVGDocument.number(labelY)))"])

        for (index, line) in legend.enumerated() {
            let y = legendTop + Double(index) * 20
            if let kind = line.kind {
                document.rect(x: 16, y: y - 11, width: 14, height: 14, fill: Self.colour(of: kind),
                              ["stroke": "#444444", "stroke-width": "0.5"])
            }
            document.text(line.text, x: 38, y: y, ["font-size": "12"])
        }
        return document.text
    }

    /// Runs of equal cells merged into one rectangle, across a row and over identical rows
    /// (all queries of a block see the same keys), so long patterns stay small.
    private func drawCells(into document: inout SVGDocument) {
        let side = grid.cellsPerSide
        func row(_ index: Int) -> ArraySlice<AttentionPattern.Kind> { grid.cells[(index * side)..<((index + 1) * side)] }
        var first = 0
        while first < side {
            var last = first + 1
            while last < side && row(last) == row(first) { last += 1 }
            var column = 0
            while column < side {
                let kind = grid.kind(row: first, column: column)
                var end = column + 1
                while end < side && grid.kind(row: first, column: end) == kind { end += 1 }
                if kind != .none {
                    document.rect(
                        x: matrixX + Double(column) * cellSide, y: matrixY + Double(first) * cellSide,
                        width: Double(end - column) * cellSide, height: Double(last - first) * cellSide,
                        fill: Self.colour(of: kind), ["class": Self.name(of: kind)])
                }
                column = end
            }
            first = last
        }
    }

    /// Dashed lines where the padding added to reach a block multiple starts.
    private func drawPaddingLines(into document: inout SVGDocument) {
        guard pattern.tokenCount > pattern.length else { return }
        let at = position(pattern.globalCount + pattern.length)
        let style: SVGDocument.Attributes = ["stroke-width": "1", "stroke-dasharray": "4 3"]
        document.line(x1: matrixX + at, y1: matrixY, x2: matrixX + at, y2: matrixY + matrixSide, stroke: "#000000", style)
        document.line(x1: matrixX, y1: matrixY + at, x2: matrixX + matrixSide, y2: matrixY + at, stroke: "#000000", style)
    }

    /// Ticks at round token indices on both axes, and a "G" over the global columns.
    private func drawTicks(into document: inout SVGDocument) {
        let step = Self.tickStep(for: pattern.tokenCount)
        for token in stride(from: 0, through: pattern.tokenCount, by: step) {
            let at = position(pattern.globalCount + token)
            let label = String(token)
            document.line(x1: matrixX + at, y1: matrixY + matrixSide, x2: matrixX + at, y2: matrixY + matrixSide + 5,
                          stroke: "#444444")
            document.text(label, x: matrixX + at, y: matrixY + matrixSide + 18, ["text-anchor": "middle", "font-size": "11"])
            document.line(x1: matrixX - 5, y1: matrixY + at, x2: matrixX, y2: matrixY + at, stroke: "#444444")
            document.text(label, x: matrixX - 8, y: matrixY + at + 4, ["text-anchor": "end", "font-size": "11"])
        }
        if pattern.globalCount > 0 {
            document.text("G", x: matrixX + max(position(pattern.globalCount), 8) / 2, y: matrixY - 6,
                          ["text-anchor": "middle", "font-size": "11"])
        }
    }

    /// SVG offset of row or column `index` from the matrix corner.
    private func position(_ index: Int) -> Double {
        Double(index) / Double(grid.cellsPerSide * grid.positionsPerCell) * matrixSide
    }

    /// 1, 2 or 5 times a power of ten, giving at most 8 intervals.
    static func tickStep(for count: Int) -> Int {
        var scale = 1
        while true {
            for multiple in [1, 2, 5] where count / (multiple * scale) <= 8 { return multiple * scale }
            scale *= 10
        }
    }

    var title: String {
        let padding = pattern.tokenCount > pattern.length ? " (padded to \(pattern.tokenCount))" : ""
        guard let lsg = pattern.lsg else { return "Full attention, \(pattern.length) tokens" }
        return "LSG attention, \(pattern.length) tokens\(padding), \(lsg.numGlobalTokens) global, "
            + "block \(lsg.blockSize), sparse block \(lsg.sparseBlockSize), factor \(lsg.sparsityFactor), "
            + "sparsity \(lsg.sparsityType.rawValue)"
    }

    /// Two lines: what the axes are, then how to read the colours and cells.
    var subtitle: [String] {
        var reading: [String] = []
        if pattern.sparseIsCandidateSet { reading.append("sparse shows candidates: the selection depends on the input") }
        if grid.positionsPerCell > 1 {
            reading.append("1 cell = \(grid.positionsPerCell)×\(grid.positionsPerCell) positions, strongest kind shown")
        }
        let axes = "rows: queries, columns: keys (global tokens first); head \(pattern.head)"
        return reading.isEmpty ? [axes] : [axes, reading.joined(separator: "; ")]
    }

    struct LegendLine {
        var kind: AttentionPattern.Kind?
        var text: String
    }

    /// The legend, long entries wrapped at "; " to fit the width.
    func legendLines() -> [LegendLine] {
        entries().flatMap { entry -> [LegendLine] in
            var lines: [LegendLine] = []
            for part in entry.text.components(separatedBy: "; ") {
                if let last = lines.last, last.text.count + part.count + 2 <= 100 {
                    lines[lines.count - 1].text += "; " + part
                } else {
                    lines.append(LegendLine(kind: lines.isEmpty ? entry.kind : nil, text: lines.isEmpty ? part : "    " + part))
                }
            }
            return lines
        }
    }

    private func entries() -> [LegendLine] {
        let lsg = pattern.lsg ?? LSGConfig()
        let block = lsg.blockSize
        var lines: [LegendLine] = []
        for kind in grid.kindsPresent {
            switch kind {
            case .global:
                lines.append(.init(kind: kind, text: "global: \(pattern.globalCount) global token(s) attend to every position and every position attends to them"))
            case .full:
                let reason = pattern.lsg == nil ? "a plain model" : "the input fits in 2 blocks (\(2 * block) tokens)"
                lines.append(.init(kind: kind, text: "full attention: \(reason), so every query sees every key"))
            case .local:
                lines.append(.init(kind: kind, text: "local: the previous, current and next block of \(block) tokens"))
            case .sparse:
                lines.append(.init(kind: kind, text: sparseLegend(lsg)))
            case .masked:
                var causes: [String] = []
                if lsg.maskFirstToken { causes.append("the first token (mask_first_token)") }
                if pattern.tokenCount > pattern.length { causes.append("padding to a multiple of \(block) (adaptive; dashed line)") }
                lines.append(.init(kind: kind, text: "masked: in the attended set but masked out: " + causes.joined(separator: ", ")))
            case .none:
                break
            }
        }
        lines.append(.init(kind: nil, text: "white: not attended. Drawn by lsg-convert pattern from the encoder's own attention layout."))
        return lines
    }

    private func sparseLegend(_ lsg: LSGConfig) -> String {
        let factor = lsg.sparsityFactor
        let chunk = min(lsg.blockSize, lsg.sparseBlockSize)
        let sparse = "\(pattern.sparseCount) sparse tokens, each block sees up to \(lsg.sparseBlockSize) before and \(lsg.sparseBlockSize) after"
        if factor == 1 { return "sparse: every token (factor 1); \(sparse)" }
        switch lsg.sparsityType {
        case .norm:
            return "sparse candidates (norm): each chunk of \(chunk) tokens gives its \(chunk / factor) keys of highest norm (input dependent); \(sparse)"
        case .lsh where factor != lsg.sparseBlockSize:
            return "sparse candidates (lsh): each chunk of \(chunk) tokens is hashed into \(chunk / factor) bucket means (input and random projections); \(sparse)"
        case .pooling:
            return "sparse candidates (pooling): each group of \(factor) tokens is averaged into one key; \(sparse)"
        case .bosPooling, .lsh:
            return "sparse candidates (bos_pooling): each group of \(factor) tokens is pooled into one key, weighted by the first token's query; \(sparse)"
        case .stride:
            return "sparse (stride): every \(factor)th token, offset by the head; \(sparse)"
        case .blockStride:
            return "sparse (block_stride): \(lsg.blockSize / factor) consecutive tokens of each block, offset by the head; \(sparse)"
        case .none:
            return "sparse"
        }
    }
}
