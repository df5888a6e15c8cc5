import Checkpoint
import Foundation
import LSGConversion
import SafeTensors
import Testing
import Zstd

/// The writing stage's plan, and the hashes it records while streaming, against what lands on disk.
struct StreamingConversionTests {
    @Test func shardedPlanIsWhatIsWrittenAndStreamedHashesAreTheFilesHashes() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("camembert-tiny", into: scratch)
        var conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out")) {
            $0.maxShardSize = 60_000
        }
        conversion.dryRun = true
        let plan = try conversion.run().files
        conversion.dryRun = false
        let output = scratch.appendingPathComponent("out")
        let context = try conversion.run()

        let written = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("model-") }.sorted()
        #expect(written.count >= 2)
        #expect(plan.map(\.name).filter { $0.hasPrefix("model-") } == written)
        for name in written {
            let size = try FileManager.default.attributesOfItem(atPath: output.appendingPathComponent(name).path)[.size] as? Int
            #expect(plan.first { $0.name == name }?.byteCount == size, "\(name)")
        }

        let manifest = try #require(try WeightManifest.load(from: output))
        for file in manifest.files where written.contains(file.name) {
            #expect(file.sha256 == (try TensorHashing.sha256Hex(fileAt: output.appendingPathComponent(file.name))), "\(file.name)")
        }
        for file in manifest.sourceFiles {
            #expect(file.sha256 == (try TensorHashing.sha256Hex(fileAt: source.appendingPathComponent(file.name))), "\(file.name)")
        }
        let store = try TensorStore(directory: output)
        #expect(context.writtenTensorDigests.count == store.names.count)
        for name in store.names {
            let digest = try store.withBytes(of: name) { TensorHashing.sha256Hex($0) }
            #expect(context.writtenTensorDigests[name] == digest, "\(name)")
            #expect(manifest.tensors.first { $0.name == name }?.sha256 == digest, "\(name)")
        }
    }
}
