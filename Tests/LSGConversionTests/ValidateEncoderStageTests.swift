import Checkpoint
import Foundation
import LSGErrors
import SafeTensors
import Testing

@testable import LSGConversion

/// The conversion's encoder validation: golden files a recipe names, else parity with the source.
@Suite struct ValidateEncoderStageTests {
    let camembertTiny = ConversionFixtures.fixtures.appendingPathComponent("camembert-tiny")

    func run(_ recipe: Recipe, output: URL) throws -> ConversionContext {
        let options = try ConversionOptions.merged(recipe: recipe, overrides: ["output": .string(output.path)])
        return try Conversion(options: options, recipe: recipe, toolVersion: "test").run()
    }

    @Test func bundledRecipeChecksTheGoldenTheReferenceRecordedOnIt() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let recipe = try Recipe.resolve("camembert-tiny-4096", in: ConversionFixtures.repository)
        var withSource = recipe
        withSource.options["source"] = .string(camembertTiny.path)
        let context = try run(withSource, output: scratch.appendingPathComponent("out"))
        let line = try #require(context.report.validation.first { $0.hasPrefix("encoder: ") })
        #expect(line.contains("golden case bundled-camembert-tiny-4096: passed"), "\(line)")
    }

    @Test func aGoldenOfAnotherModelFailsTheConversionAndLeavesNoOutput() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var recipe = Recipe.standard(for: .camembert)
        let index = try #require(recipe.stages.firstIndex { $0.stage == ValidateEncoderStage.stageName })
        recipe.stages[index].parameters = ["golden": .string("golden/readback/readback-roberta-lsh-b16-s16-f4-g1-padded-batch.safetensors.zst")]
        recipe.baseDirectory = ConversionFixtures.repository
        recipe.options = ["source": .string(camembertTiny.path), "max_length": .int(1024)]
        let output = scratch.appendingPathComponent("out")
        #expect {
            try run(recipe, output: output)
        } throws: { error in
            "\(error)".contains("encoder validation failed: golden case readback-roberta-lsh-b16-s16-f4-g1-padded-batch: failed")
                && (error as? LSGError)?.kind == .parityFailure
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func withoutGoldensTheModelIsComparedWithItsSource() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var recipe = Recipe.standard(for: .camembert)
        recipe.options = ["source": .string(camembertTiny.path), "max_length": .int(1024)]
        let context = try run(recipe, output: scratch.appendingPathComponent("out"))
        let line = try #require(context.report.validation.first { $0.hasPrefix("encoder: ") })
        #expect(line.contains("parity with the source on 512 tokens of built-in multilingual text: hidden-state cosine mean 0.9"), "\(line)")

        let index = try #require(recipe.stages.firstIndex { $0.stage == ValidateEncoderStage.stageName })
        recipe.stages[index].parameters = ["min_cosine": .double(1.5), "probe_length": .int(64)]
        let strict = scratch.appendingPathComponent("strict")
        #expect {
            try run(recipe, output: strict)
        } throws: { error in
            "\(error)".contains("on 64 tokens of built-in multilingual text") && "\(error)".contains("is below 1.5")
        }
        #expect(!FileManager.default.fileExists(atPath: strict.path))
    }

    @Test func parametersAreChecked() throws {
        #expect(throws: LSGError.self) {
            try StageRegistry.shared.make(ValidateEncoderStage.stageName, parameters: ["golden": .int(3)])
        }
        #expect(throws: LSGError.self) {
            try StageRegistry.shared.make(ValidateEncoderStage.stageName, parameters: ["min_cosin": .double(0.9)])
        }
        let golden = ConversionFixtures.golden
        let absolute = golden.appendingPathComponent("readback/bundled-camembert-tiny-4096.safetensors.zst").path
        let stage = try StageRegistry.shared.make(
            ValidateEncoderStage.stageName, parameters: ["golden": .array([.string("MANIFEST.json"), .string(absolute)])],
            baseDirectory: golden)
        #expect((stage as? ValidateEncoderStage)?.goldenFiles.map(\.path) == [golden.appendingPathComponent("MANIFEST.json").path, absolute])
        let missing = #expect(throws: LSGError.self) {
            try StageRegistry.shared.make(ValidateEncoderStage.stageName, parameters: ["golden": "none.zst"], baseDirectory: golden)
        }
        #expect(missing?.kind == .missingFile)
        #expect(missing?.description == "stage 'validate-encoder': parameter 'golden': no file \(golden.path)/none.zst (relative paths start at \(golden.path))")
    }
}
