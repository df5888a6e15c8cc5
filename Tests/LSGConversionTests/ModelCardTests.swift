import Checkpoint
import Foundation
import JSON
import LSGConversion
import LSGErrors
import SafeTensors
import Testing

extension ConversionFixtures {
    /// A stand-in for the reference's `modeling_lsg_<family>.py` (its code is not ours to ship):
    /// a file of the same name defining every class `auto_map` names, so `--modeling-file` gives
    /// the reference's local `auto_map`.
    static func modelingStandIn(for family: ModelFamily, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("\(family.lsgModule).py")
        let classes = family.autoMap.map { $0.lsgClass.split(separator: ".").last! }
        try Data(classes.map { "class \($0):\n    pass\n" }.joined(separator: "\n").utf8).write(to: url)
        return url
    }
}

/// The complete output directory: README.md model card, `auto_map` (hub by default, a local
/// modeling file on request), tokenizer files, and the manifest covering them.
struct ModelCardTests {
    let bertTiny = ConversionFixtures.fixtures.appendingPathComponent("bert-tiny")
    let camembertTiny = ConversionFixtures.fixtures.appendingPathComponent("camembert-tiny")

    static func autoMap(_ directory: URL) throws -> [String: String] {
        let config = try JSONValue.load(contentsOf: directory.appendingPathComponent("config.json"))
        let object = try #require(config["auto_map"]?.objectValue)
        return Dictionary(uniqueKeysWithValues: object.map { ($0.key, $0.value.stringValue ?? "") })
    }

    @Test func defaultAutoMapPointsAtTheFamilysHubCodeAndTheCardSaysHowToLoad() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("lsg-bert-tiny-1024")
        let context = try ConversionFixtures.conversion(source: bertTiny, output: output) { $0.lsg[.sparsityType] = .sparsityType(.bosPooling) }.run()

        let autoMap = try Self.autoMap(output)
        let expected = Dictionary(uniqueKeysWithValues: ModelFamily.bert.autoMap.map {
            ($0.autoClass, "ccdv/legal-lsg-small-uncased-4096--\($0.lsgClass)")
        })
        #expect(autoMap == expected)
        #expect(autoMap["AutoModelForPreTraining"] == "ccdv/legal-lsg-small-uncased-4096--modeling_lsg_bert.LSGBertForPreTraining")
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(!files.contains { $0.hasSuffix(".py") })
        #expect(Set(files) == ["config.json", "model.safetensors", "tokenizer_config.json", "special_tokens_map.json",
                               "tokenizer.json", "vocab.txt", "README.md", "lsg-manifest.json"])

        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!card.contains("base_model:"), "a local source is not hub metadata")
        #expect(card.contains("# lsg-bert-tiny-1024"))
        #expect(card.contains("model = AutoModelForPreTraining.from_pretrained(\"lsg-bert-tiny-1024\", trust_remote_code=True)"))
        #expect(card.contains("tokenizer = AutoTokenizer.from_pretrained(\"lsg-bert-tiny-1024\")"))
        #expect(card.contains("`modeling_lsg_bert.py` in the hub repository [ccdv/legal-lsg-small-uncased-4096]"))
        #expect(card.contains("converted by lsg-convert test"))
        #expect(card.contains("tiled from 512 to 1024 positions"))
        for row in ["| `block_size` | 128 |", "| `sparse_block_size` | 128 |", "| `sparsity_factor` | 2 |",
                    "| `sparsity_type` | `bos_pooling` |", "| `num_global_tokens` | 1 |", "| `mask_first_token` | `False` |",
                    "| `max_position_embeddings` | 1024 |"] {
            #expect(card.contains(row), "\(row)")
        }
        #expect(card.contains("lsg-convert convert --from \(bertTiny.path) --max-length 1024 --sparsity-type bos_pooling --out lsg-bert-tiny-1024"))
        #expect(card.contains("- Architecture: `LSGBertForPreTraining`"))
        let validation = try #require(context.report.validation.first)
        #expect(card.contains("## Validation\n\n- \(validation)"))
        #expect(card.contains("--sparsity-type bos_pooling --num-global-tokens 1 --out pattern.svg"))
        #expect(card.contains("Jacob Devlin et al."))

        // The manifest, written last, hashes the card and the rewritten config.
        let manifest = try #require(try WeightManifest.load(from: output))
        #expect(Set(manifest.files.map(\.name)) == Set(files).subtracting(["lsg-manifest.json"]))
        #expect(try WeightManifest.verify(directory: output).isValid)
    }

    @Test func modelingFileIsCopiedAndAutoMapNamesItsModuleAsTheReferenceDoes() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let standIn = try ConversionFixtures.modelingStandIn(for: .camembert, in: scratch)
        let hub = scratch.appendingPathComponent("hub"), local = scratch.appendingPathComponent("local")
        try ConversionFixtures.conversion(source: camembertTiny, output: hub).run()
        try ConversionFixtures.conversion(source: camembertTiny, output: local) { $0.modelingFile = standIn.path }.run()

        #expect(try Data(contentsOf: local.appendingPathComponent("modeling_lsg_camembert.py")) == Data(contentsOf: standIn))
        let autoMap = try Self.autoMap(local)
        #expect(autoMap == Dictionary(uniqueKeysWithValues: ModelFamily.camembert.autoMap.map { ($0.autoClass, $0.lsgClass) }))
        #expect(autoMap["AutoModelForMaskedLM"] == "modeling_lsg_camembert.LSGCamembertForMaskedLM")
        #expect(try Self.autoMap(hub)["AutoModelForMaskedLM"] == "ccdv/lsg-camembert-base-4096--modeling_lsg_camembert.LSGCamembertForMaskedLM")

        // Everything else in config.json is the same.
        var hubConfig = try JSONValue.load(contentsOf: hub.appendingPathComponent("config.json")).objectValue!
        var localConfig = try JSONValue.load(contentsOf: local.appendingPathComponent("config.json")).objectValue!
        hubConfig["auto_map"] = nil
        localConfig["auto_map"] = nil
        #expect(hubConfig == localConfig)

        let card = try String(contentsOf: local.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(card.contains("`auto_map` in `config.json` points at `modeling_lsg_camembert.py`, included in this directory."))
        #expect(card.contains("--modeling-file \(standIn.path)"))
        #expect(card.contains("Paris est la {tokenizer.mask_token} de la France."))
        #expect(try WeightManifest.load(from: local)?.files.contains { $0.name == "modeling_lsg_camembert.py" } == true)
    }

    @Test("bad modeling files are refused before anything is written", arguments: [
        ("modeling-lsg.py", "class LSGCamembertConfig:\n    pass\n", "must be named <python module>.py"),
        ("modeling_lsg_camembert.txt", "", "must be named <python module>.py"),
        ("modeling_lsg_camembert.py", "class LSGCamembertConfig:\n    pass\n", "defines no class LSGCamembert"),
    ])
    func badModelingFiles(_ name: String, _ content: String, _ message: String) throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent(name)
        try Data(content.utf8).write(to: file)
        let output = scratch.appendingPathComponent("out")
        #expect {
            try ConversionFixtures.conversion(source: camembertTiny, output: output) { $0.modelingFile = file.path }.run()
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains(file.path)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        var missing = ConversionOptions()
        missing.source = camembertTiny.path
        missing.modelingFile = scratch.appendingPathComponent("absent.py").path
        #expect(missing.problems == ["\(missing.modelingFile!): modeling file not found"])
    }

    @Test func recipesNameAnotherRepositoryForTheHubCode() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var conversion = try ConversionFixtures.conversion(source: camembertTiny, output: scratch.appendingPathComponent("out"))
        let index = try #require(conversion.recipe.stages.firstIndex { $0.stage == "link-modeling-code" })
        conversion.recipe.stages[index].parameters = ["repository": "me/my-lsg-code"]
        try conversion.run()
        #expect(try Self.autoMap(scratch.appendingPathComponent("out"))["AutoModel"] == "me/my-lsg-code--modeling_lsg_camembert.LSGCamembertModel")
        conversion.recipe.stages[index].parameters = ["repo": "x"]
        #expect(throws: LSGError.self) { try conversion.recipe.makeStages() }
    }

    @Test func dryRunsPlanTheCardAndSkippedValidationIsSaid() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var conversion = try ConversionFixtures.conversion(source: camembertTiny, output: scratch.appendingPathComponent("out")) {
            $0.lsg[.maskFirstToken] = .bool(true)
            $0.lsg[.poolWithGlobal] = .bool(true)
            $0.lsg[.adaptive] = .bool(false)
            $0.dtype = .f16
            $0.seed = 7
        }
        conversion.dryRun = true
        let plan = try conversion.run()
        #expect(plan.files.map(\.name).suffix(2) == ["README.md", "lsg-manifest.json"])

        conversion.dryRun = false
        conversion.validate = false
        let context = try conversion.run()
        let card = try String(contentsOf: scratch.appendingPathComponent("out/README.md"), encoding: .utf8)
        #expect(card.contains("## Validation\n\nNot validated: the conversion ran without validation stages."))
        #expect(try WriteModelCardStage.command(for: context) == "lsg-convert convert --from \(camembertTiny.path) --max-length 1024 "
            + "--mask-first-token --pool-with-global --no-adaptive --seed 7 --dtype f16 --no-validate --out out")
    }

    @Test func commandWordsAreShellQuotedOnlyWhenNeeded() {
        #expect(WriteModelCardStage.shellQuoted("camembert-base") == "camembert-base")
        #expect(WriteModelCardStage.shellQuoted("/tmp/my model") == "'/tmp/my model'")
        #expect(WriteModelCardStage.shellQuoted("it's") == "'it'\\''s'")
        #expect(WriteModelCardStage.shellQuoted("") == "''")
    }

    @Test func autoMapOriginsReadBack() {
        #expect(LinkModelingCodeStage.Origin(autoMapValue: "ccdv/x--modeling_lsg_bert.LSGBertModel") == .hub(repository: "ccdv/x", module: "modeling_lsg_bert"))
        #expect(LinkModelingCodeStage.Origin(autoMapValue: "modeling_lsg_bert.LSGBertModel") == .localFile(module: "modeling_lsg_bert"))
        #expect(LinkModelingCodeStage.Origin(autoMapValue: "nodot") == nil)
    }

    @Test("every family's tokenizer files reach the output", arguments: ["bert-tiny", "camembert-tiny", "roberta-tiny", "xlm-roberta-tiny"])
    func tokenizerFilesArePresent(_ fixture: String) throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = ConversionFixtures.fixtures.appendingPathComponent(fixture)
        let output = scratch.appendingPathComponent("out")
        try ConversionFixtures.conversion(source: source, output: output).run()
        let tokenizerFiles = try FileManager.default.contentsOfDirectory(atPath: source.path)
            .filter { TokenizerFiles.knownFileNames.contains($0) }
        #expect(!tokenizerFiles.isEmpty)
        for file in tokenizerFiles {
            #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file)")
        }
    }
}
