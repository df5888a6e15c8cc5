import AttentionPlot
import Checkpoint
import Foundation
import LSGEncoder
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The picture says what the layout says: cells against `AttentionPattern`, the SVG read back
/// as XML, and (when Chromium is installed) the rendered pixels.
@Suite("Attention pattern plot")
struct AttentionPatternPlotTests {
    static func lsg(block: Int = 8, sparseBlock: Int = 8, factor: Int = 2, type: SparsityType, globals: Int = 1,
                    maskFirstToken: Bool = false) -> LSGConfig {
        var config = LSGConfig()
        config.blockSize = block
        config.sparseBlockSize = sparseBlock
        config.sparsityFactor = factor
        config.sparsityType = type
        config.numGlobalTokens = globals
        config.maskFirstToken = maskFirstToken
        return config
    }

    static let configurations: [(LSGConfig, Int)] = [
        (lsg(type: .stride, globals: 2), 64),
        (lsg(type: .norm, maskFirstToken: true), 60),
        (lsg(factor: 4, type: .blockStride), 72),
        (lsg(type: .none), 40),
        (lsg(factor: 4, type: .bosPooling), 64),
        (lsg(type: .norm), 12),
    ]

    @Test("one position per cell: every cell is the pattern's kind", arguments: 0..<configurations.count)
    func cellsAreThePattern(_ index: Int) throws {
        let (config, length) = Self.configurations[index]
        let pattern = try AttentionPattern(lsg: config, length: length, head: 1)
        let grid = AttentionGrid(pattern, maxCells: 400)
        #expect(grid.positionsPerCell == 1 && grid.cellsPerSide == pattern.size)
        for query in 0..<pattern.size {
            for key in 0..<pattern.size {
                #expect(grid.kind(row: query, column: key) == pattern.kind(query: query, key: key), "query \(query) key \(key)")
            }
        }
    }

    @Test("downsampled cells take the strongest kind of the positions they cover")
    func downsampling() throws {
        let pattern = try AttentionPattern(lsg: Self.lsg(type: .stride), length: 120)
        let grid = AttentionGrid(pattern, maxCells: 20)
        #expect(grid.positionsPerCell == 7 && grid.cellsPerSide == 18)
        for row in 0..<grid.cellsPerSide {
            for column in 0..<grid.cellsPerSide {
                var strongest = AttentionPattern.Kind.none
                for query in (row * 7)..<min((row + 1) * 7, pattern.size) {
                    for key in (column * 7)..<min((column + 1) * 7, pattern.size) {
                        strongest = max(strongest, pattern.kind(query: query, key: key))
                    }
                }
                #expect(grid.kind(row: row, column: column) == strongest, "cell \(row), \(column)")
            }
        }
    }

    @Test("the SVG's rectangles, read back as XML, are the layout's cells in the legend's colours",
          arguments: 0..<configurations.count)
    func svgMatchesLayout(_ index: Int) throws {
        let (config, length) = Self.configurations[index]
        let pattern = try AttentionPattern(lsg: config, length: length, head: 1)
        let plot = AttentionPatternPlot(pattern)
        let parsed = try ParsedSVG(plot.svg())
        var covered = [AttentionPattern.Kind?](repeating: nil, count: plot.grid.cells.count)
        for rect in parsed.rects {
            guard let name = rect["class"] else { continue }
            let kind = try #require(AttentionPattern.Kind.allCases.first { AttentionPatternPlot.name(of: $0) == name })
            #expect(rect["fill"] == AttentionPatternPlot.colour(of: kind))
            func cells(_ start: String, _ size: String, from origin: Double) -> Range<Int> {
                let first = Int(((Double(rect[start]!)! - origin) / plot.cellSide).rounded())
                return first..<(first + Int((Double(rect[size]!)! / plot.cellSide).rounded()))
            }
            for row in cells("y", "height", from: plot.matrixY) {
                for column in cells("x", "width", from: plot.matrixX) {
                    #expect(covered[row * plot.grid.cellsPerSide + column] == nil, "cell \(row), \(column) drawn twice")
                    covered[row * plot.grid.cellsPerSide + column] = kind
                }
            }
        }
        for (cell, kind) in plot.grid.cells.enumerated() {
            #expect(covered[cell] == (kind == .none ? nil : kind), "cell \(cell)")
        }
        let text = parsed.texts.joined(separator: "\n")
        #expect(text.contains("key position") && text.contains("query position"))
        for kind in plot.grid.kindsPresent {
            let prefix = kind == .full ? "full attention:" : kind == .sparse ? "sparse" : AttentionPatternPlot.name(of: kind) + ":"
            #expect(parsed.texts.contains { $0.hasPrefix(prefix) }, "legend line for \(kind)")
        }
        #expect(text.contains("candidates") == pattern.sparseIsCandidateSet)
    }

    @Test("16384 tokens with the defaults: a well-formed SVG under 1 MB")
    func longSequenceStaysSmall() throws {
        let pattern = try AttentionPattern(lsg: LSGConfig(), length: 16384)
        let svg = AttentionPatternPlot(pattern).svg()
        #expect(svg.utf8.count < 1_000_000, "\(svg.utf8.count) bytes")
        let parsed = try ParsedSVG(svg)
        #expect(parsed.rects.count > 400)
        #expect(parsed.texts.contains { $0.contains("1 cell = 41×41 positions") })
    }

    /// Chromium from Debian's package (or `LSG_CONVERT_CHROMIUM`; set it empty to skip rendering).
    static let chromium: String? = {
        let candidates = ProcessInfo.processInfo.environment["LSG_CONVERT_CHROMIUM"].map { [$0] }
            ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        return candidates.first { !$0.isEmpty && FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test("headless Chromium draws each cell in its colour",
          .enabled(if: chromium != nil, "Chromium is not installed (apt-get install chromium): rendering not checked"))
    func renderedPixelsMatchLayout() throws {
        let pattern = try AttentionPattern(lsg: Self.lsg(type: .stride, globals: 2, maskFirstToken: true), length: 60, head: 1)
        let plot = AttentionPatternPlot(pattern)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pattern-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let svgURL = directory.appendingPathComponent("pattern.svg")
        let pngURL = directory.appendingPathComponent("pattern.png")
        let svg = plot.svg()
        try Data(svg.utf8).write(to: svgURL)
        let parsed = try ParsedSVG(svg)
        let width = Int(Double(parsed.root["width"]!)!.rounded(.up)), height = Int(Double(parsed.root["height"]!)!.rounded(.up))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
            "--window-size=\(width),\(height)", "--screenshot=\(pngURL.path)", svgURL.absoluteString,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let image = try PNGImage(contentsOf: pngURL)
        #expect(image.width == width && image.height == height)

        var checked = 0
        for row in 0..<plot.grid.cellsPerSide {
            for column in 0..<plot.grid.cellsPerSide {
                let x = Int(plot.matrixX + (Double(column) + 0.5) * plot.cellSide)
                let y = Int(plot.matrixY + (Double(row) + 0.5) * plot.cellSide)
                let expected = Self.rgb(AttentionPatternPlot.colour(of: plot.grid.kind(row: row, column: column)))
                let pixel = image.rgb(x: x, y: y)
                let close = abs(pixel.r - expected.r) <= 3 && abs(pixel.g - expected.g) <= 3 && abs(pixel.b - expected.b) <= 3
                #expect(close, "cell \(row), \(column) at (\(x), \(y)): \(pixel), expected \(expected)")
                checked += 1
            }
        }
        #expect(plot.grid.cellsPerSide == 66 && checked == 66 * 66)
    }

    static func rgb(_ hex: String) -> (r: Int, g: Int, b: Int) {
        let value = Int(hex.dropFirst(), radix: 16)!
        return (value >> 16 & 0xff, value >> 8 & 0xff, value & 0xff)
    }
}

/// The SVG's root attributes, rectangles and text contents.
struct ParsedSVG {
    var root: [String: String] = [:]
    var rects: [[String: String]] = []
    var texts: [String] = []

    init(_ svg: String) throws {
        let collector = Collector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw PNGImage.Failure(description: "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")")
        }
        root = collector.root
        rects = collector.rects
        texts = collector.texts
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var root: [String: String] = [:]
        var rects: [[String: String]] = []
        var texts: [String] = []
        var inText = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            switch name {
            case "svg": root = attributes
            case "rect": rects.append(attributes)
            case "text":
                inText = true
                texts.append("")
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inText { texts[texts.count - 1] += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { inText = false }
        }
    }
}
