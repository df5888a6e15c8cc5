import Foundation
import JSON
import SafeTensors
import Testing
import TestSupport

/// A stand-in for the reference's `modeling_lsg_<family>.py` of a golden conversion case (its
/// code is not ours to ship): a file of the same name defining every class the reference's
/// `auto_map` names, so `--modeling-file` reproduces the reference's `config.json`.
func referenceModelingStandIn(caseDirectory: URL, in scratch: URL) throws -> URL {
    let description = try JSONValue.load(contentsOf: caseDirectory.appendingPathComponent("case.json"))
    let files = try #require(description["reference_files"]?.objectValue)
    let name = try #require(files.keys.first { $0.hasSuffix(".py") })
    let reference = scratch.appendingPathComponent("reference-\(UUID().uuidString)")
    try unpackZstdDirectory(caseDirectory.appendingPathComponent("reference"), into: reference)
    defer { try? FileManager.default.removeItem(at: reference) }
    let config = try JSONValue.load(contentsOf: reference.appendingPathComponent("config.json"))
    let classes = try #require(config["auto_map"]?.objectValue).compactMap { $0.value.stringValue?.split(separator: ".").last }
    let standIn = scratch.appendingPathComponent("stand-in-\(UUID().uuidString)").appendingPathComponent(name)
    try FileManager.default.createDirectory(at: standIn.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(classes.map { "class \($0):\n    pass\n" }.joined(separator: "\n").utf8).write(to: standIn)
    return standIn
}

/// The model card's command reproduces the output it describes.
struct ModelCardCommandTests {
    @Test func theCardsCommandReproducesTheOutput() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = goldenDirectory.appendingPathComponent("fixtures/roberta-tiny").path
        let first = scratch.file("first")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: false)
        let result = try runTool(["--from", source, "--max-length", "640", "--block-size", "32", "--sparsity-factor", "4",
                                  "--sparsity-type", "lsh", "--no-pool-with-global", "--num-global-tokens", "3",
                                  "--out", first.appendingPathComponent("lsg-roberta").path])
        #expect(result.status == 0, "\(result.standardError)")
        let card = try String(contentsOf: first.appendingPathComponent("lsg-roberta/README.md"), encoding: .utf8)
        let block = try #require(card.components(separatedBy: "Command (reproduces this directory):\n\n```bash\n").last?
            .components(separatedBy: "\n```").first)
        #expect(block == "lsg-convert convert --from \(source) --max-length 640 --block-size 32 --sparsity-factor 4 "
            + "--sparsity-type lsh --num-global-tokens 3 --no-pool-with-global --out lsg-roberta")

        let second = scratch.file("second")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: false)
        let words = block.split(separator: " ").map(String.init)
        #expect(words.first == "lsg-convert")
        let again = try runTool(Array(words.dropFirst()), in: second)
        #expect(again.status == 0, "\(again.standardError)")
        for file in ["README.md", "config.json", "model.safetensors", "tokenizer_config.json"] {
            let a = try Data(contentsOf: first.appendingPathComponent("lsg-roberta/\(file)"))
            let b = try Data(contentsOf: second.appendingPathComponent("lsg-roberta/\(file)"))
            #expect(a == b, "\(file) differs")
        }
    }

    @Test func modelingFileErrorsAreOneLineAndLeaveNothing() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = goldenDirectory.appendingPathComponent("fixtures/roberta-tiny").path
        let result = try runTool(["--from", source, "--modeling-file", scratch.file("absent.py").path, "--out", scratch.file("out").path])
        #expect(result.status != 0)
        #expect(result.errorLines == ["Error: \(scratch.file("absent.py").path): modeling file not found"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).isEmpty)
    }
}
