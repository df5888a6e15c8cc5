import Checkpoint
import Foundation
import JSON
import LSGConversion
import LSGEncoder
import LSGErrors
import SafeTensors
import Testing
import Zstd

struct ConversionFeatureTests {
    let bertTiny = ConversionFixtures.fixtures.appendingPathComponent("bert-tiny")
    let camembertTiny = ConversionFixtures.fixtures.appendingPathComponent("camembert-tiny")

    @Test func manifestVerifiesAFreshOutputAndNamesAFlippedTensor() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("out")
        try ConversionFixtures.conversion(source: camembertTiny, output: output).run()

        let fresh = try WeightManifest.verify(directory: output)
        #expect(fresh.isValid, "\(fresh.problems)")
        #expect(fresh.checkedTensors == 43)
        #expect(fresh.checkedFiles == 7)  // config, 4 tokenizer files, weights, README.md

        let manifest = try #require(try WeightManifest.load(from: output))
        #expect(manifest.toolVersion == "test")
        #expect(manifest.sourceFiles.map(\.name).sorted() == ["config.json", "model.safetensors", "sentencepiece.bpe.model",
                                                               "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
        let global = try #require(manifest.provenance(of: "roberta.embeddings.global_embeddings.weight"))
        #expect(global.operation == "initialized")
        #expect(global.stage == "add-global-embeddings")
        #expect(global.inputs.contains("roberta.embeddings.word_embeddings.weight"))
        #expect(manifest.provenance(of: "roberta.embeddings.position_embeddings.weight")?.operation == "tiled")
        #expect(manifest.provenance(of: "lm_head.bias")?.operation == "copied")
        #expect(manifest.json["options"]?["max_length"] == .int(1024))
        #expect(manifest.json["recipe"]?["name"] == "camembert")

        // Flip one byte inside one tensor's data.
        let weights = output.appendingPathComponent("model.safetensors")
        let store = try SafeTensorsFile(contentsOf: weights)
        let target = try #require(store.info("roberta.encoder.layer.1.output.dense.bias"))
        var data = try Data(contentsOf: weights)
        let headerSize = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        data[8 + headerSize + target.dataOffsets.lowerBound + 3] ^= 0x01
        try data.write(to: weights)

        let tampered = try WeightManifest.verify(directory: output)
        #expect(!tampered.isValid)
        #expect(tampered.problems.contains { $0.hasPrefix("tensor roberta.encoder.layer.1.output.dense.bias: sha256") })
        #expect(tampered.problems.contains { $0.hasPrefix("file model.safetensors: sha256") })
        #expect(tampered.problems.count == 2, "\(tampered.problems)")
    }

    @Test func dryRunWritesNothingAndPlansEveryFile() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var conversion = try ConversionFixtures.conversion(source: bertTiny, output: scratch.appendingPathComponent("out"))
        conversion.dryRun = true
        let context = try conversion.run()
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        #expect(context.files.map(\.name) == ["config.json", "tokenizer_config.json", "special_tokens_map.json",
                                               "tokenizer.json", "vocab.txt", "model.safetensors", "README.md", "lsg-manifest.json"])
        let plan = context.renderPlan()
        #expect(plan.contains("dry run: nothing written"))
        #expect(plan.contains("tiled: bert.embeddings.position_embeddings.weight F32 [1024, 32]"))
        #expect(plan.contains("initialized: bert.embeddings.global_embeddings.weight F32 [512, 32]"))

        // The planned weight size is the size the writer then produces.
        let output = scratch.appendingPathComponent("real")
        conversion.dryRun = false
        conversion.options.output = output.path
        try conversion.run()
        let planned = try #require(context.files.first { $0.name == "model.safetensors" }?.byteCount)
        let written = try FileManager.default.attributesOfItem(atPath: output.appendingPathComponent("model.safetensors").path)[.size] as? Int
        #expect(written == planned)
    }

    @Test func customStagesPlugIntoARecipe() throws {
        // A user stage that scales the new global rows, registered under a name of its own.
        struct ScaleGlobals: Stage {
            let factor: Float
            var name: String { "scale-globals" }
            func run(_ context: ConversionContext) throws {
                let name = try context.requireArchitecture().encoderPrefix + "embeddings.global_embeddings.weight"
                guard var tensor = context.tensors[name], case .computed(let produce) = tensor.content else { return }
                let factor = self.factor
                tensor.content = .computed { try produce().map { $0 * factor } }
                tensor.provenance = context.provenance("scaled", [name], "x\(factor)")
                context.tensors.set(tensor)
            }
        }
        let registry = StageRegistry()
        registry.register("scale-globals") { parameters in
            try parameters.allow(["factor"])
            return ScaleGlobals(factor: Float(try parameters.int("factor") ?? 1))
        }
        #expect(registry.names.contains("scale-globals") && registry.names.contains("write-checkpoint"))

        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let plain = scratch.appendingPathComponent("plain"), scaled = scratch.appendingPathComponent("scaled")
        try ConversionFixtures.conversion(source: bertTiny, output: plain).run()
        var conversion = try ConversionFixtures.conversion(source: bertTiny, output: scaled)
        conversion.registry = registry
        let position = try #require(conversion.recipe.stages.firstIndex { $0.stage == "add-global-embeddings" })
        conversion.recipe.stages.insert(.init("scale-globals", parameters: ["factor": 2]), at: position + 1)
        try conversion.run()

        let name = "bert.embeddings.global_embeddings.weight"
        let before = try TensorStore(directory: plain).floats(name)
        let after = try TensorStore(directory: scaled).floats(name)
        #expect(after == before.map { $0 * 2 })
        #expect(try WeightManifest.load(from: scaled)?.provenance(of: name)?.operation == "scaled")

        let badParameter = Recipe(name: "x", description: "", family: nil, stages: [.init("scale-globals", parameters: ["factr": 2])])
        #expect(throws: LSGError.self) { try badParameter.makeStages(registry: registry) }
        let unknown = Recipe(name: "x", description: "", family: nil, stages: [.init("no-such-stage")])
        #expect(throws: LSGError.self) { try unknown.makeStages() }
    }

    @Test func shardedSourceGivesShardedOutput() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        // The reference's two-shard LSG output, resized again.
        let reference = ConversionFixtures.conversions.appendingPathComponent("camembert-tiny-two-shards/reference")
        let source = scratch.appendingPathComponent("sharded-lsg")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: false)
        for file in try FileManager.default.contentsOfDirectory(atPath: reference.path) where file.hasSuffix(".zst") {
            try Zstd.decompressFile(at: reference.appendingPathComponent(file))
                .write(to: source.appendingPathComponent(String(file.dropLast(4))))
        }
        let output = scratch.appendingPathComponent("out")
        let context = try ConversionFixtures.conversion(source: source, output: output) {
            $0.maxLength = 2000
            $0.resizeLSG = true
        }.run()
        let store = try TensorStore(directory: output)
        #expect(store.isSharded)
        #expect(store.files.count >= 2, "the largest source shard bounds each output shard")
        #expect(store.info("roberta.embeddings.position_embeddings.weight")?.shape == [2002, 32])
        let sourceStore = try TensorStore(directory: source)
        let global = "roberta.embeddings.global_embeddings.weight"
        #expect(try store.floats(global) == sourceStore.floats(global))
        #expect(context.files.contains { $0.name == "model.safetensors.index.json" })
        #expect(try WeightManifest.verify(directory: output).isValid)
    }

    @Test func dtypeOptionConvertsEveryTensor() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("out")
        try ConversionFixtures.conversion(source: camembertTiny, output: output) { $0.dtype = .bf16 }.run()
        let store = try TensorStore(directory: output)
        #expect(store.tensors.allSatisfy { $0.dtype == .bf16 })
        let source = try TensorStore(directory: camembertTiny)
        let name = "roberta.encoder.layer.0.attention.self.query.weight"
        let expected = try source.floats(name).map { FloatConversion.float(fromBF16: FloatConversion.bf16Bits(from: $0)) }
        #expect(try store.floats(name) == expected)
        let config = try ModelConfig.load(from: output.appendingPathComponent("config.json"))
        #expect(config["torch_dtype"] == "bfloat16")
    }

    @Test func randomGlobalInitMatchesTheReferenceStatistics() throws {
        let golden = ConversionFixtures.conversions.appendingPathComponent("camembert-tiny-random-global-init")
        let tensors = try JSONValue.load(contentsOf: golden.appendingPathComponent("tensors.json"))
        let name = "roberta.embeddings.global_embeddings.weight"
        let statistics = try #require(tensors["random_tensors"]?[name]?["statistics_of_random_rows"])
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let first = scratch.appendingPathComponent("a"), second = scratch.appendingPathComponent("b")
        try ConversionFixtures.conversion(source: camembertTiny, output: first) { $0.maxLength = 4096; $0.randomGlobalInit = true }.run()
        try ConversionFixtures.conversion(source: camembertTiny, output: second) { $0.maxLength = 4096; $0.randomGlobalInit = true }.run()
        let values = try TensorStore(directory: first).floats(name)
        #expect(try TensorStore(directory: second).floats(name) == values, "same seed, same rows")

        let rows = values.dropFirst(32).map(Double.init)  // rows 1..511
        let mean = rows.reduce(0, +) / Double(rows.count)
        let deviation = (rows.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows.count - 1)).squareRoot()
        let referenceMean = try #require(statistics["mean"]?.doubleValue)
        let referenceDeviation = try #require(statistics["std"]?.doubleValue)
        // 511 x 32 draws: the sample statistics agree well within these bounds.
        #expect(abs(mean - referenceMean) < 0.1 * referenceDeviation, "mean \(mean) vs \(referenceMean)")
        #expect(abs(deviation / referenceDeviation - 1) < 0.1, "std \(deviation) vs \(referenceDeviation)")

        var reseeded = try ConversionFixtures.conversion(source: camembertTiny, output: scratch.appendingPathComponent("c")) {
            $0.maxLength = 4096
            $0.randomGlobalInit = true
        }
        reseeded.options.seed = 7
        try reseeded.run()
        let other = try TensorStore(directory: scratch.appendingPathComponent("c")).floats(name)
        #expect(Array(other.prefix(32)) == Array(values.prefix(32)), "row 0 is word[bos] + position 0 whatever the seed")
        #expect(other != values)
    }

    @Test func recipesUnderConversionsAreTheStandardOnesOrLoadable() throws {
        let directory = ConversionFixtures.repository.appendingPathComponent("conversions")
        for family in ModelFamily.allCases {
            let url = directory.appendingPathComponent("\(family.rawValue).json")
            #expect(try Recipe.load(from: url).json == Recipe.standard(for: family).json)
            #expect(try Data(contentsOf: url) == Recipe.standard(for: family).jsonData(), "\(url.lastPathComponent) is up to date")
        }
        let published = try Recipe.load(from: directory.appendingPathComponent("camembert-base-4096.json"))
        let options = try ConversionOptions(json: published.options)
        #expect(published.family == .camembert)
        #expect(options.source == "camembert-base" && options.maxLength == 4096)
        #expect(options.lsg[.numGlobalTokens] == .integer(1) && options.lsg[.blockSize] == .integer(128))
        #expect(options.lsg[.sparseBlockSize] == .integer(128) && options.lsg[.sparsityFactor] == .integer(2))
        #expect(options.lsg[.maskFirstToken] == .bool(true))
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".json") {
            let recipe = try Recipe.load(from: directory.appendingPathComponent(file))
            _ = try recipe.makeStages()
        }
    }

    @Test func publishedRecipeOnTheTinyCamembert() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let recipe = try Recipe.resolve("camembert-base-4096", in: ConversionFixtures.repository)
        let options = try ConversionOptions.merged(recipe: recipe, overrides: [
            "source": .string(camembertTiny.path), "output": .string(scratch.appendingPathComponent("out").path),
        ])
        try Conversion(options: options, recipe: recipe, toolVersion: "test").run()
        let config = try ModelConfig.load(from: scratch.appendingPathComponent("out/config.json"))
        let lsg = try #require(config.lsg)
        #expect(lsg.maskFirstToken && lsg.poolWithGlobal && lsg.numGlobalTokens == 1)
        #expect(lsg.blockSize == 128 && lsg.sparseBlockSize == 128 && lsg.sparsityFactor == 2)
        #expect(config.maxPositionEmbeddings == 4098)
        // Same tensors as the reference's mask-first-token conversion of the same fixture.
        let expected = try JSONValue.load(contentsOf: ConversionFixtures.conversions
            .appendingPathComponent("camembert-tiny-mask-first-token/case.json"))
        let sha256 = try ConversionFixtures.sha256(of: scratch.appendingPathComponent("out/model.safetensors"))
        #expect(sha256 == expected["reference_files"]?["model.safetensors"]?["sha256"]?.stringValue)
    }

    @Test func tilingFollowsTheReferenceRule() throws {
        // 514 rows with offset 2 to 4096 positions: rows 0, 1, then 2..<514 eight times.
        let rows = ExtendPositionsStage.tiledRows(sourceRows: 514, offset: 2, maxLength: 4096)
        #expect(rows.count == 4098)
        #expect(Array(rows.prefix(5)) == [0, 1, 2, 3, 4])
        #expect(rows[514] == 2 && rows[4097] == 513)
        // Shrinking keeps a prefix; bert has no offset.
        #expect(ExtendPositionsStage.tiledRows(sourceRows: 512, offset: 0, maxLength: 100) == Array(0..<100))
        // The rule can come up short; the stage refuses then.
        #expect(ExtendPositionsStage.tiledRows(sourceRows: 10, offset: 2, maxLength: 79).count == 66)
    }

    @Test func globalRowsAreReorderedByStride() throws {
        var normal = SeededNormal(seed: 1)
        // 1024 rows of width 1 holding their own index: factor 2 keeps even rows, stride 8 -> step 4.
        let positions = (0..<1024).map(Float.init)
        let ordered = try GlobalInitialization.orderPositions(positions, rows: 1024, width: 1, stride: 8, normal: &normal)
        #expect(ordered.randomRows == 0)
        #expect(Array(ordered.values.prefix(4)) == [0, 8, 16, 24])
        #expect(ordered.values[128] == 2)  // second group starts at kept row 1
        #expect(Set(ordered.values).count == 512)
        // 130 rows are padded to 512 with random rows.
        let short = try GlobalInitialization.orderPositions(Array(positions.prefix(130)), rows: 130, width: 1, stride: 64,
                                                            normal: &normal)
        #expect(short.randomRows == 382)
        #expect(throws: LSGError.self) {
            try GlobalInitialization.orderPositions(positions, rows: 1024, width: 1, stride: 1, normal: &normal)
        }
    }

    @Test func fittedNormalHasTheDataCovariance() throws {
        var normal = SeededNormal(seed: 3)
        // Two correlated columns: x ~ N(0, 1), y = 2x + small noise.
        var data: [Float] = []
        for _ in 0..<2000 {
            let x = normal.next()
            data += [Float(x + 1), Float(2 * x + 0.1 * normal.next() - 3)]
        }
        let sample = try GlobalInitialization.sampleFittedNormal(data, rows: 2000, width: 2, count: 20000, normal: &normal)
        #expect(sample.jitter == 0)
        let xs = stride(from: 0, to: sample.values.count, by: 2).map { Double(sample.values[$0]) }
        let ys = stride(from: 1, to: sample.values.count, by: 2).map { Double(sample.values[$0]) }
        let meanX = xs.reduce(0, +) / Double(xs.count), meanY = ys.reduce(0, +) / Double(ys.count)
        let covariance = zip(xs, ys).reduce(0) { $0 + ($1.0 - meanX) * ($1.1 - meanY) } / Double(xs.count - 1)
        #expect(abs(meanX - 1) < 0.05 && abs(meanY + 3) < 0.1)
        #expect(abs(covariance - 2) < 0.15, "covariance \(covariance)")
    }
}
