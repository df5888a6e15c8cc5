import Foundation
import SafeTensors
import Testing
import TestSupport

/// The same inputs give the same bytes: conversions (every output file, lsg-manifest.json
/// included) and `encode` outputs, whatever the run or the thread count.
@Suite struct DeterminismTests {
    @Test("two conversions with the same options are byte-identical", arguments: [
        (fixture: "camembert-tiny", options: [String]()),
        (fixture: "bert-tiny", options: ["--random-global-init", "--seed", "7", "--dtype", "bf16"]),
        (fixture: "xlm-roberta-tiny", options: ["--max-shard-size", "60KB", "--num-global-tokens", "16", "--sparsity-type", "bos_pooling"]),
    ])
    func conversionIsByteIdentical(fixture: String, options: [String]) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(fixture, to: scratch.file("source"))
        let output = scratch.file("out")
        var runs: [[String: String]] = []
        for run in 0..<2 {
            let result = try runTool(["--from", source.path, "--max-length", "1000", "--out", output.path] + options)
            #expect(result.status == 0, "\(result.standardError)")
            runs.append(try digests(of: output))
            try FileManager.default.moveItem(at: output, to: scratch.file("out-\(run)"))
        }
        #expect(runs[0].keys.contains("lsg-manifest.json"))
        #expect(runs[0].keys.contains { $0.hasSuffix(".safetensors") })
        for name in Set(runs[0].keys).union(runs[1].keys).sorted() {
            #expect(runs[0][name] == runs[1][name], "\(name) differs between two identical conversions")
        }
    }

    /// Extends CLITests' threads 1-vs-2 check: every sparsity type, a padded batch, the MLM head,
    /// 1, 2 and 3 threads, and the same thread count twice.
    @Test("encode output does not depend on the thread count or the run",
          arguments: ["norm", "pooling", "stride", "block_stride", "bos_pooling", "lsh", "none"])
    func encodeIsByteIdentical(sparsityType: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let model = goldenDirectory.appendingPathComponent("models/lsg-camembert-tiny-1024").path
        let length = 300
        let ids: [Int64] = (0..<(2 * length)).map { index in
            let position = index % length
            if index >= length && position >= 211 { return 1 }  // right padding of the second row
            return position == 0 ? 5 : Int64(6 + (index * 37) % 200)
        }
        let mask: [Int64] = (0..<(2 * length)).map { $0 >= length && $0 % length >= 211 ? 0 : 1 }
        let input = scratch.file("in.safetensors")
        var writer = SafeTensorsWriter()
        try writer.add("input_ids", dtype: .i64, shape: [2, length]) { sink in try ids.withUnsafeBytes { try sink($0) } }
        try writer.add("attention_mask", dtype: .i64, shape: [2, length]) { sink in try mask.withUnsafeBytes { try sink($0) } }
        try writer.write(to: input)

        var outputs: [String: Data] = [:]
        for (label, threads) in [("1", 1), ("2", 2), ("3", 3), ("2-again", 2)] {
            let output = scratch.file("out-\(label).safetensors")
            let result = try runTool([
                "encode", model, "--input", input.path, "--output", output.path, "--head", "mlm",
                "--block-size", "16", "--sparse-block-size", "16", "--sparsity-factor", "4", "--sparsity-type", sparsityType,
                "--num-global-tokens", "3", "--threads", "\(threads)", "--seed", "11",
            ])
            #expect(result.status == 0, "\(result.standardError)")
            outputs[label] = try Data(contentsOf: output)
        }
        let reference = try #require(outputs["1"])
        #expect(reference.count > 100_000)
        for (label, data) in outputs.sorted(by: { $0.key < $1.key }) {
            #expect(data == reference, "\(sparsityType): --threads \(label) differs from --threads 1")
        }
    }
}
