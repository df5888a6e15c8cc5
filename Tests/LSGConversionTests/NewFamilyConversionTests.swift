import Checkpoint
import Foundation
import LSGConversion
import SafeTensors
import Testing

/// DistilBERT and ELECTRA conversions beyond the golden replays (ConversionGoldenTests covers
/// their tensors, config.json and tokenizer files bit for bit).
struct NewFamilyConversionTests {
    @Test("without --modeling-file, auto_map names the local module, as the reference writes it, with a warning",
          arguments: ["electra-tiny"])
    func autoMapWithoutAKnownHubRepository(_ fixture: String) throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("out")
        let conversion = try ConversionFixtures.conversion(
            source: ConversionFixtures.fixtures.appendingPathComponent(fixture), output: output)
        let context = try conversion.run()
        let config = try ModelConfig.load(from: output.appendingPathComponent("config.json"))
        let family = try #require(config.family)
        let autoMap = try #require(config["auto_map"]?.objectValue)
        #expect(autoMap["AutoConfig"]?.stringValue == "\(family.lsgModule).LSG\(family.classStem)Config")
        #expect(context.report.warnings.contains { $0.contains("no public hub repository is known to hold \(family.lsgModule).py") })
        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(card.contains("points at `\(family.lsgModule).py`, which this directory does not include"))
        #expect(card.contains("pipeline(\"fill-mask\""))
    }

    @Test func distilbertAutoMapNamesThePublishedLSGDistilBERT() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("out")
        let context = try ConversionFixtures.conversion(
            source: ConversionFixtures.fixtures.appendingPathComponent("distilbert-tiny"), output: output).run()
        let config = try ModelConfig.load(from: output.appendingPathComponent("config.json"))
        let autoMap = try #require(config["auto_map"]?.objectValue)
        #expect(autoMap["AutoModelForMaskedLM"]?.stringValue
            == "ccdv/lsg-distilbert-base-uncased-4096--modeling_lsg_distilbert.LSGDistilBertForMaskedLM")
        #expect(context.report.warnings.isEmpty, "\(context.report.warnings)")
    }

    @Test func electraToTheDiscriminatorInitialisesItsHeadWithTheRightShapes() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("out")
        let conversion = try ConversionFixtures.conversion(
            source: ConversionFixtures.fixtures.appendingPathComponent("electra-tiny"), output: output) {
            $0.architecture = "ElectraForPreTraining"
        }
        _ = try conversion.run()
        let file = try SafeTensorsFile(contentsOf: output.appendingPathComponent("model.safetensors"))
        #expect(file.info("discriminator_predictions.dense.weight")?.shape == [8, 8])
        #expect(file.info("discriminator_predictions.dense_prediction.weight")?.shape == [1, 8])
        #expect(file.info("electra.embeddings.global_embeddings.weight")?.shape == [512, 4])
        #expect(file.info("electra.embeddings_project.weight")?.shape == [8, 4])
        #expect(file.info("generator_lm_head.bias") == nil)
        #expect(try file.floats("discriminator_predictions.dense_prediction.bias") == [0])
        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!card.contains("fill-mask"), "the discriminator fills no mask")
    }
}
