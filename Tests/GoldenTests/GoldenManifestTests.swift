import Foundation
import SafeTensors
import Testing
import Zstd

@testable import Golden

/// The committed golden data must be exactly what MANIFEST.json lists: a changed byte, a missing
/// file or an unlisted file fails here, and every encoder golden must follow golden/SCHEMA.md.
@Suite struct GoldenManifestTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("golden")

    @Test func committedGoldenDataMatchesTheManifest() throws {
        let manifest = try GoldenManifest.load(goldenDirectory: Self.goldenDirectory)
        let summary = try manifest.verify(goldenDirectory: Self.goldenDirectory)
        #expect(summary.filesHashed == manifest.files.count)
        #expect(summary.encoderGoldensChecked == manifest.encoderCases.count)
        #expect(summary.conversionCasesChecked == manifest.conversions.count)
    }

    @Test func manifestCoversTheCasesTheGoldenIssueAsksFor() throws {
        let manifest = try GoldenManifest.load(goldenDirectory: Self.goldenDirectory)
        let cases = manifest.encoderCases
        #expect(cases.count >= 40)
        #expect(Set(cases.map(\.family)) == ["camembert", "roberta", "xlm-roberta", "bert", "distilbert", "electra",
                                              "albert"])
        let sparsity = Set(cases.compactMap(\.sparsityType))
        #expect(sparsity.isSuperset(of: ["none", "norm", "pooling", "lsh", "stride", "block_stride", "bos_pooling"]))
        #expect(cases.contains { $0.sparsityType == "lsh" && $0.lshProjections > 0 })
        #expect(Set(cases.map(\.shape)).isSuperset(of: ["short", "adaptive", "max", "padded-batch"]))
        #expect(cases.contains { $0.attention == "full" })
        #expect(cases.contains { $0.quirk })
        #expect(manifest.reference["lsg-converter"] == "0.1.9")
        #expect(manifest.reference["transformers"] == "4.36.2")
        #expect(manifest.tolerance.atol == 1e-4)
        let fixtures = Set(manifest.files.filter { $0.kind == "fixtures" }.map { $0.path.split(separator: "/")[1] })
        #expect(fixtures.isSuperset(of: ["camembert-tiny", "roberta-tiny", "xlm-roberta-tiny", "bert-tiny", "distilbert-tiny",
                                         "electra-tiny", "albert-tiny"]))
        // golden/ as a whole (data, MANIFEST.json, documentation, generator) must stay under 16 MB on disk;
        // the data files are most of it (10.3 MB with the task heads, plus the tokenizer corpus).
        #expect(manifest.files.reduce(0) { $0 + $1.size } < 14_000_000)
    }

    @Test func oneFlippedByteFailsNamingTheFile() throws {
        try withGoldenCopy { copy, manifest in
            let path = "encoder/camembert-norm-b16-s16-f2-g1-short.safetensors.zst"
            var bytes = try Data(contentsOf: copy.appendingPathComponent(path))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: copy.appendingPathComponent(path))
            let problems = try verificationProblems(manifest, copy)
            #expect(problems.contains { $0.hasPrefix("\(path): sha256 ") })
        }
    }

    @Test func aMissingFileFails() throws {
        try withGoldenCopy { copy, manifest in
            let path = "fixtures/camembert-tiny/tokenizer.json"
            try FileManager.default.removeItem(at: copy.appendingPathComponent(path))
            let problems = try verificationProblems(manifest, copy)
            #expect(problems.contains("\(path): listed in MANIFEST.json but missing"))
        }
    }

    @Test func anUnlistedFileFails() throws {
        try withGoldenCopy { copy, manifest in
            let path = "models/lsg-camembert-tiny-1024/notes.txt"
            try Data("hand-made".utf8).write(to: copy.appendingPathComponent(path))
            let problems = try verificationProblems(manifest, copy)
            #expect(problems.contains("\(path): not listed in MANIFEST.json"))
        }
    }

    @Test func aGoldenThatLostATensorFailsTheSchema() throws {
        try withGoldenCopy { copy, manifest in
            let path = "encoder/camembert-norm-b16-s16-f2-g1-short.safetensors.zst"
            let original = try SafeTensorsFile(
                data: Zstd.decompressFile(at: copy.appendingPathComponent(path)), name: path)
            var writer = SafeTensorsWriter(metadata: original.metadata)
            for info in original.tensors where info.name != "expected.logits" {
                let bytes = try original.withBytes(of: info.name) { Data($0) }
                try writer.add(info.name, dtype: info.dtype, shape: info.shape) { sink in
                    try bytes.withUnsafeBytes { try sink($0) }
                }
            }
            let rewritten = copy.appendingPathComponent("rewritten.safetensors")
            try writer.write(to: rewritten)
            try Zstd.compressToFile(Data(contentsOf: rewritten), at: copy.appendingPathComponent(path))
            try FileManager.default.removeItem(at: rewritten)
            let problems = try verificationProblems(manifest, copy)
            #expect(problems.contains("\(path): no tensor 'expected.logits'"))
        }
    }

    @Test func aStoredConversionFileMustMatchItsCaseRecord() throws {
        try withGoldenCopy { copy, manifest in
            let path = "conversions/camembert-tiny-default/reference/config.json.zst"
            try Zstd.compressToFile(Data("{}".utf8), at: copy.appendingPathComponent(path))
            let problems = try verificationProblems(manifest, copy)
            #expect(problems.contains { $0.hasPrefix("\(path): 2 bytes, conversions/camembert-tiny-default/case.json records") })
        }
    }

    @Test func listedPathsMustStayInsideTheDataDirectories() {
        #expect(GoldenManifest.pathProblem("encoder/a.safetensors.zst") == nil)
        #expect(GoldenManifest.pathProblem("../secret") != nil)
        #expect(GoldenManifest.pathProblem("/etc/passwd") != nil)
        #expect(GoldenManifest.pathProblem("encoder/../MANIFEST.json") != nil)
        #expect(GoldenManifest.pathProblem("tools/common.py") != nil)
        #expect(GoldenManifest.pathProblem("encoder") != nil)
    }

    // MARK: - Helpers

    /// Runs `body` on a private copy of the data directories (and the manifest) in a temporary directory.
    private func withGoldenCopy(_ body: (URL, GoldenManifest) throws -> Void) throws {
        let copy = FileManager.default.temporaryDirectory
            .appendingPathComponent("golden-manifest-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        for name in GoldenManifest.dataDirectories + [GoldenManifest.fileName] {
            try FileManager.default.copyItem(
                at: Self.goldenDirectory.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        try body(copy, try GoldenManifest.load(goldenDirectory: copy))
    }

    private func verificationProblems(_ manifest: GoldenManifest, _ directory: URL) throws -> [String] {
        do {
            _ = try manifest.verify(goldenDirectory: directory)
        } catch let error as GoldenManifestError {
            return error.problems
        }
        Issue.record("verification passed on modified golden data")
        return []
    }
}
