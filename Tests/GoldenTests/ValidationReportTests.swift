import Golden
import Testing

@Suite struct ValidationReportTests {
    @Test func passingOutputReadsLikeOptimum() {
        let comparison = OutputComparison(
            name: "last_hidden_state", expected: [1, 2, 3, 4], expectedShape: [1, 2, 2], actual: [1, 2, 3, 4.00005],
            actualShape: [1, 2, 2], atol: 1e-4)
        #expect(comparison.passed)
        #expect(comparison.lines[0] == "\t-[✓] last_hidden_state: shape (1, 2, 2) matches (1, 2, 2)")
        #expect(comparison.lines[1].hasPrefix("\t\t-[✓] all values close (atol: 0.0001), max difference 5.0"))
        #expect(comparison.lines[2].contains("NMSE"))
    }

    @Test func failuresAreAllCollected() {
        let values = OutputComparison(
            name: "logits", expected: [0, 0, 0], expectedShape: [3], actual: [0, 0.5, -1], actualShape: [3], atol: 1e-4)
        let shape = OutputComparison(
            name: "last_hidden_state", expected: [0, 0], expectedShape: [2], actual: [0], actualShape: [1], atol: 1e-4)
        #expect(values.mismatches == 2)
        #expect(values.maxAbsoluteDifference == 1)
        #expect(!shape.passed)
        let report = ValidationReport(title: "case", comparisons: [shape, values], errors: ["pooler_output: not produced"])
        #expect(!report.passed)
        #expect(report.text.contains("-[x] last_hidden_state: shape (1) does not match (2)"))
        #expect(report.text.contains("-[x] values not close enough, max difference: 1.000e+00 (atol: 0.0001); 2 of 3 values outside"))
        #expect(report.text.contains("-[x] pooler_output: not produced"))
    }

    @Test func maskedPositionsAreLeftOutAndRelativeToleranceApplies() {
        let masked = OutputComparison(
            name: "x", expected: [1, 100], expectedShape: [2], actual: [1, 200], actualShape: [2], atol: 1e-4,
            include: { $0 == 0 })
        #expect(masked.passed)
        #expect(masked.comparedCount == 1)
        let relative = OutputComparison(
            name: "x", expected: [1000], expectedShape: [1], actual: [1000.5], actualShape: [1], atol: 0, rtol: 1e-3)
        #expect(relative.passed)
        let nan = OutputComparison(name: "x", expected: [1], expectedShape: [1], actual: [.nan], actualShape: [1], atol: 1)
        #expect(!nan.passed)
    }
}
