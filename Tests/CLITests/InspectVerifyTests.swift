import Foundation
import Testing
import TestSupport

/// `inspect --verify` re-hashes a converted model against its lsg-manifest.json.
@Suite struct InspectVerifyTests {
    @Test func passesOnAFreshOutputAndNamesAFlippedTensor() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("out")
        let converted = try runTool(["--from", goldenDirectory.appendingPathComponent("fixtures/camembert-tiny").path,
                                     "--max-length", "1024", "--out", output.path, "--no-validate"])
        #expect(converted.status == 0, "\(converted.standardError)")

        let fresh = try runTool(["inspect", "--verify", output.path])
        #expect(fresh.status == 0, "\(fresh.standardOutput)\(fresh.standardError)")
        #expect(fresh.standardOutput.contains(": OK"))

        let table = try runTool(["inspect", output.path])
        #expect(table.standardOutput.contains("provenance"))
        #expect(table.standardOutput.contains("roberta.embeddings.position_embeddings.weight"))

        // Flip one byte inside the last tensor's data (the end of the file is tensor data).
        let weights = output.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: weights)
        let flipped = try runTool(["inspect", "--verify", output.path])
        #expect(flipped.status == 1)
        #expect(flipped.standardOutput.contains("tensor "))
        #expect(flipped.standardOutput.contains("differs from the manifest"))
    }
}
