import Foundation
import Testing
import TestSupport

/// `lsg-convert pattern`: writes an SVG for the settings given (defaults, options, a model's
/// config.json); bad settings give one line, a non-zero exit and no file.
struct PatternCommandTests {
    @Test func writesAnSVGWithTheSettingsInItsTitle() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("pattern.svg")
        let result = try runTool(["pattern", "--max-length", "1000", "--block-size", "64", "--sparse-block-size", "32",
                                  "--sparsity-factor", "4", "--sparsity-type", "stride", "--num-global-tokens", "2",
                                  "--out", output.path])
        #expect(result.status == 0, "\(result.standardError)")
        let svg = try String(contentsOf: output, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("LSG attention, 1000 tokens (padded to 1024), 2 global, block 64, sparse block 32, factor 4, sparsity stride"))
        #expect(svg.contains("class=\"sparse\"") && svg.contains("class=\"local\"") && svg.contains("class=\"global\""))
    }

    @Test func startsFromAModelsSettings() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("pattern.svg")
        let model = goldenDirectory.appendingPathComponent("models/lsg-camembert-tiny-1024")
        let result = try runTool(["pattern", "--model", model.path, "--max-length", "1024", "--head", "3", "--out", output.path])
        #expect(result.status == 0, "\(result.standardError)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("config.json"))) as? [String: Any]
        let block = try #require(config?["block_size"] as? Int), type = try #require(config?["sparsity_type"] as? String)
        let svg = try String(contentsOf: output, encoding: .utf8)
        #expect(svg.contains("block \(block),") && svg.contains("sparsity \(type)") && svg.contains("head 3"))
    }

    @Test("bad settings: one line, non-zero exit, nothing written", arguments: [
        (["--max-length", "100", "--block-size", "6", "--sparsity-factor", "4"], "block_size (6) must be divisible by sparsity_factor (4)"),
        (["--max-length", "0"], "--max-length must be at least 1"),
        (["--max-length", "100", "--sparsity-type", "dense"], "--sparsity-type must be one of"),
        (["--max-length", "100", "--head=-1"], "--head must not be negative"),
        (["--max-length", "300", "--no-adaptive"], "with adaptive=false the length (300) must be a multiple of block_size (128)"),
    ])
    func badSettings(_ arguments: [String], _ message: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let result = try runTool(["pattern"] + arguments + ["--out", scratch.file("p.svg").path])
        #expect(result.status != 0)
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }

    @Test func unwritableOutputIsNamed() throws {
        let result = try runTool(["pattern", "--max-length", "100", "--out", "/nonexistent-dir/p.svg"])
        #expect(result.status != 0)
        #expect(result.errorLines == ["Error: /nonexistent-dir/p.svg: cannot write: /nonexistent-dir is not a directory"])
    }
}
