import Foundation
import LSGErrors
import Testing

@testable import LSGConversion

/// The binary carries `conversions/` (scripts/embed-recipes), so `--recipe NAME` works anywhere.
struct BuiltInRecipesTests {
    static let folder = ConversionFixtures.repository.appendingPathComponent("conversions")

    @Test func theEmbeddedRecipesAreTheFilesByteForByte() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(BuiltInRecipes.json.keys), "run scripts/embed-recipes")
        for file in files {
            let text = try String(contentsOf: Self.folder.appendingPathComponent(file), encoding: .utf8)
            #expect(BuiltInRecipes.json[String(file.dropLast(5))] == text, "\(file) differs from its embedded copy: run scripts/embed-recipes")
        }
    }

    @Test func aRecipeByNameResolvesFromAnyDirectory() throws {
        for directory in [URL(fileURLWithPath: "/"), FileManager.default.temporaryDirectory, ConversionFixtures.repository] {
            let recipe = try Recipe.resolve("camembert-base-4096", in: directory)
            #expect(recipe == (try Recipe.load(from: Self.folder.appendingPathComponent("camembert-base-4096.json"))).withBase(recipe.baseDirectory))
            #expect(recipe.name == "camembert-base-4096")
        }
    }

    @Test func aBuiltInRecipesGoldenFileMissingHereIsAClearError() throws {
        let recipe = try Recipe.resolve("camembert-tiny-4096", in: URL(fileURLWithPath: "/"))
        let error = #expect(throws: LSGError.self) { _ = try recipe.makeStages() }
        #expect(error?.description.contains("stage 'validate-encoder': parameter 'golden': no file /golden/readback/bundled-camembert-tiny-4096.safetensors.zst") == true)
        #expect(error?.description.contains("which does not exist: a built-in recipe's files are found from the conversions/ folder") == true)
        #expect(throws: Never.self) { _ = try Recipe.resolve("camembert-tiny-4096", in: ConversionFixtures.repository).makeStages() }
    }

    @Test func anUnknownNameListsTheBuiltInRecipes() {
        let error = #expect(throws: LSGError.self) { _ = try Recipe.resolve("camembert-huge", in: URL(fileURLWithPath: "/")) }
        #expect(error?.description.contains("not a built-in recipe (albert, bart, barthez, bert, camembert, camembert-base-4096, camembert-tiny-4096") == true)
    }
}

extension Recipe {
    func withBase(_ directory: URL?) -> Recipe {
        var copy = self
        copy.baseDirectory = directory
        return copy
    }
}
