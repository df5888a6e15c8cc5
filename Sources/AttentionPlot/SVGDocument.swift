import Foundation

/// A minimal SVG writer: shapes and text appended in drawing order, serialised as one
/// standalone document. Numbers are written with at most two decimals so files stay small.
public struct SVGDocument: Sendable {
    public let width: Double
    public let height: Double
    private var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Extra attributes, written in the order given.
    public typealias Attributes = KeyValuePairs<String, String>

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              _ attributes: Attributes = [:]) {
        append("rect", ["x": Self.number(x), "y": Self.number(y), "width": Self.number(width),
                        "height": Self.number(height), "fill": fill], attributes)
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              _ attributes: Attributes = [:]) {
        append("line", ["x1": Self.number(x1), "y1": Self.number(y1), "x2": Self.number(x2),
                        "y2": Self.number(y2), "stroke": stroke], attributes)
    }

    /// Text anchored at (x, y) (`text-anchor` and `transform` go in `attributes`).
    public mutating func text(_ content: String, x: Double, y: Double, _ attributes: Attributes = [:]) {
        var open = "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\""
        for (name, value) in attributes { open += " \(name)=\"\(Self.escape(value))\"" }
        elements.append(open + ">" + Self.escape(content) + "</text>")
    }

    /// The document: XML declaration and the `svg` root with the size; edges are drawn crisp so
    /// adjacent rectangles leave no anti-aliased seams.
    public var text: String {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
                + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"sans-serif\" font-size=\"13\" shape-rendering=\"crispEdges\">",
        ]
        lines += elements
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    private mutating func append(_ name: String, _ geometry: KeyValuePairs<String, String>, _ attributes: Attributes) {
        var element = "<\(name)"
        for (key, value) in geometry { element += " \(key)=\"\(Self.escape(value))\"" }
        for (key, value) in attributes { element += " \(key)=\"\(Self.escape(value))\"" }
        elements.append(element + "/>")
    }

    /// `12`, `12.5`, `12.33`: shortest of at most two decimals.
    static func number(_ value: Double) -> String {
        let hundredths = (value * 100).rounded()
        if hundredths.truncatingRemainder(dividingBy: 100) == 0 { return String(Int(hundredths / 100)) }
        var text = String(format: "%.2f", hundredths / 100)
        if text.hasSuffix("0") { text.removeLast() }
        return text
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
