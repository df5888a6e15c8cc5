import Foundation
import Golden
import LSGEncoder
import Testing

/// `golden/` at the repository root.
let goldenRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("golden")

/// Every encoder golden case, by file name.
let encoderCaseFiles: [String] = {
    let directory = goldenRoot.appendingPathComponent("encoder")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(GoldenCase.suffix) }.sorted()
}()

func loadCase(_ file: String) throws -> GoldenCase {
    try GoldenCase(contentsOf: goldenRoot.appendingPathComponent("encoder").appendingPathComponent(file))
}

@Suite("Encoder against the reference's golden outputs")
struct GoldenEncoderTests {
    @Test("the golden set is present and covers every sparsity type")
    func goldenSetIsPresent() {
        #expect(encoderCaseFiles.count >= 40)
        for type in ["norm", "pooling", "lsh", "stride", "block-stride", "bos-pooling", "none", "s0", "original"] {
            #expect(encoderCaseFiles.contains { $0.contains("-\(type)-") }, "no case for \(type)")
        }
    }

    @Test("matches the reference within the case's atol on every unpadded position", arguments: encoderCaseFiles)
    func matchesReference(_ file: String) throws {
        let golden = try loadCase(file)
        let report = golden.validate(threads: 2)
        #expect(report.errors.isEmpty, "\(report.text)")
        #expect(report.comparisons.count == golden.expected.count)
        #expect(report.passed, "\(report.text)")
    }
}
