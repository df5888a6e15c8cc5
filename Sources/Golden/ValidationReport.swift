import Foundation

/// How one output of a run compares with its expected values.
public struct OutputComparison: Sendable {
    public let name: String
    public let expectedShape: [Int]
    public let actualShape: [Int]
    /// Values compared (padding positions are left out where the case says so).
    public let comparedCount: Int
    public let maxAbsoluteDifference: Double
    /// Normalized mean squared error: Σ(actual - expected)² / Σ expected².
    public let nmse: Double
    public let atol: Double
    public let rtol: Double
    /// Values outside atol + rtol·|expected|.
    public let mismatches: Int

    public var shapeMatches: Bool { expectedShape == actualShape }
    public var passed: Bool { shapeMatches && mismatches == 0 }

    /// Compares `actual` with `expected` (same layout) at the flat positions `include` accepts.
    public init(
        name: String, expected: [Float], expectedShape: [Int], actual: [Float], actualShape: [Int],
        atol: Double, rtol: Double = 0, include: (Int) -> Bool = { _ in true }
    ) {
        self.name = name
        self.expectedShape = expectedShape
        self.actualShape = actualShape
        self.atol = atol
        self.rtol = rtol
        var compared = 0
        var maxDifference = 0.0
        var squaredError = 0.0
        var squaredExpected = 0.0
        var mismatches = 0
        if expectedShape == actualShape, expected.count == actual.count {
            for index in 0..<expected.count where include(index) {
                let e = Double(expected[index])
                let a = Double(actual[index])
                let difference = abs(a - e)
                compared += 1
                if !(difference <= atol + rtol * abs(e)) { mismatches += 1 }
                if !(difference <= maxDifference) { maxDifference = difference }
                squaredError += (a - e) * (a - e)
                squaredExpected += e * e
            }
        }
        comparedCount = compared
        maxAbsoluteDifference = maxDifference
        nmse = squaredExpected > 0 ? squaredError / squaredExpected : (squaredError == 0 ? 0 : .infinity)
        self.mismatches = mismatches
    }

    /// Report lines in the style of optimum's export validation, plus llama.cpp's NMSE.
    public var lines: [String] {
        let shape = { (dims: [Int]) in "(" + dims.map(String.init).joined(separator: ", ") + ")" }
        guard shapeMatches else {
            return ["\t-[x] \(name): shape \(shape(actualShape)) does not match \(shape(expectedShape))"]
        }
        var lines = ["\t-[✓] \(name): shape \(shape(actualShape)) matches \(shape(expectedShape))"]
        let tolerance = rtol > 0 ? "atol: \(atol), rtol: \(rtol)" : "atol: \(atol)"
        if mismatches == 0 {
            lines.append("\t\t-[✓] all values close (\(tolerance)), max difference \(format(maxAbsoluteDifference)) over \(comparedCount) values")
        } else {
            lines.append("\t\t-[x] values not close enough, max difference: \(format(maxAbsoluteDifference)) (\(tolerance)); \(mismatches) of \(comparedCount) values outside")
        }
        lines.append("\t\t    NMSE \(format(nmse))")
        return lines
    }

    private func format(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.3e", value)
    }
}

/// The result of validating one case: every output compared, every failure collected.
public struct ValidationReport: Sendable {
    public let title: String
    public let comparisons: [OutputComparison]
    /// Problems that prevented a comparison (missing output, run error).
    public let errors: [String]

    public init(title: String, comparisons: [OutputComparison], errors: [String] = []) {
        self.title = title
        self.comparisons = comparisons
        self.errors = errors
    }

    public var passed: Bool { errors.isEmpty && comparisons.allSatisfy(\.passed) }

    /// The result on one line: passed with the largest difference, or the first problem.
    public var summary: String {
        if let error = errors.first { return "\(title): failed: \(error)" }
        if let failing = comparisons.first(where: { !$0.passed }) {
            guard failing.shapeMatches else {
                return "\(title): failed: \(failing.name) has shape \(failing.actualShape), expected \(failing.expectedShape)"
            }
            return "\(title): failed: \(failing.name) differs by up to \(String(format: "%.3e", failing.maxAbsoluteDifference)) (atol \(failing.atol)), \(failing.mismatches) of \(failing.comparedCount) values outside"
        }
        let worst = comparisons.map(\.maxAbsoluteDifference).max() ?? 0
        let values = comparisons.map(\.comparedCount).reduce(0, +)
        let names = comparisons.map(\.name).joined(separator: ", ")
        return "\(title): passed (\(names): max difference \(String(format: "%.3e", worst)) over \(values) values)"
    }

    public var text: String {
        var lines = ["Validating \(title):"]
        for comparison in comparisons { lines += comparison.lines }
        for error in errors { lines.append("\t-[x] \(error)") }
        return lines.joined(separator: "\n")
    }
}
