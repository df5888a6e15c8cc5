import Foundation
import Golden
import LSGEncoder
import Testing

/// Every encoder-decoder golden case (`golden/seq2seq/`), by file name.
let seq2seqCaseFiles: [String] = {
    let directory = goldenRoot.appendingPathComponent("seq2seq")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(GoldenCase.suffix) }.sorted()
}()

@Suite("Encoder and decoder of BART, mBART, BARThez and Pegasus against the reference")
struct Seq2SeqGoldenTests {
    @Test("the golden set covers every family and sparsity type")
    func goldenSetIsPresent() {
        for family in ["bart", "mbart", "barthez", "pegasus"] {
            for type in ["norm", "pooling", "lsh", "stride", "block-stride", "bos-pooling", "none", "no-pass-mask-first"] {
                #expect(seq2seqCaseFiles.contains { $0.hasPrefix("\(family)-\(type)-") }, "no \(family) case for \(type)")
            }
            #expect(seq2seqCaseFiles.contains { $0.hasPrefix("\(family)-") && $0.contains("-max.") })
            #expect(seq2seqCaseFiles.contains { $0.hasPrefix("\(family)-") && $0.contains("-padded-batch.") })
        }
    }

    @Test("encoder states and decoder logits match the reference within atol", arguments: seq2seqCaseFiles)
    func matchesReference(_ file: String) throws {
        let golden = try GoldenCase(contentsOf: goldenRoot.appendingPathComponent("seq2seq").appendingPathComponent(file))
        #expect(golden.decoderInput != nil)
        let report = golden.validate(threads: 2)
        #expect(report.errors.isEmpty, "\(report.text)")
        #expect(Set(report.comparisons.map(\.name)) == [GoldenCase.encoderStatesName, "logits"])
        #expect(report.passed, "\(report.text)")
    }
}
