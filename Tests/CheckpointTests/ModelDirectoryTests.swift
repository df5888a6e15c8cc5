import Checkpoint
import Foundation
import JSON
import LSGErrors
import SafeTensors
import Testing

private let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let fixtures = repository.appendingPathComponent("golden/fixtures")

private func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("CheckpointTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

struct ModelConfigTests {
    @Test func typedFieldsAndUnknownKeysSurviveARewrite() throws {
        let text = """
            {"model_type": "camembert", "hidden_size": 32, "layer_norm_eps": 1e-05, "custom_key": {"nested": [1, 2.5, null]},
             "architectures": ["CamembertForMaskedLM"], "vocab_size": 257, "pad_token_id": 1}
            """
        var config = try ModelConfig(json: try JSONValue.parse(text), name: "config.json")
        #expect(config.family == .camembert)
        #expect(config.hiddenSize == 32 && config.vocabSize == 257 && config.layerNormEps == 1e-5)
        #expect(config.numHiddenLayers == 12, "transformers default when absent")
        #expect(config.positionEmbeddingType == "absolute")
        #expect(config.lsg == nil && !config.isLSG)
        config.maxPositionEmbeddings = 4098
        config.lsg = LSGConfig()
        config.architectures = ["LSGCamembertForMaskedLM"]
        let rewritten = try ModelConfig(json: .object(config.json), name: "rewritten")
        #expect(rewritten["custom_key"] == ["nested": [1, 2.5, nil]])
        #expect(rewritten.maxPositionEmbeddings == 4098)
        #expect(rewritten.lsg == LSGConfig())
        #expect(rewritten.json["sparsity_type"] == "norm" && rewritten.json["base_model_prefix"] == "lsg")
        config.lsg = nil
        #expect(config.json["block_size"] == nil)
    }

    @Test func lsgDefaultsAndNormalisation() throws {
        let config = try ModelConfig(json: ["model_type": "bert", "base_model_prefix": "lsg", "block_size": 64,
                                            "sparsity_type": "unheard_of", "num_global_tokens": 900,
                                            "mask_first_token": true, "pool_with_global": false], name: "c")
        let lsg = try #require(config.lsg)
        #expect(lsg.blockSize == 64 && lsg.sparseBlockSize == 128 && lsg.sparsityFactor == 2 && lsg.adaptive)
        #expect(lsg.sparsityType == .none, "the reference's model treats an unknown type as none")
        let normalized = lsg.normalized
        #expect(normalized.numGlobalTokens == 512 && normalized.poolWithGlobal)
        var bad = LSGConfig()
        bad.blockSize = 100
        bad.sparsityFactor = 3
        #expect(bad.problems == ["block_size (100) must be divisible by sparsity_factor (3)"])
    }

    @Test func wrongTypesAreOneLineErrorsNamingTheFile() throws {
        for (json, fragment) in [
            ("[1]", "config is a JSON array, expected an object"),
            (#"{"hidden_size": "big"}"#, "\"hidden_size\" is a JSON string, expected a positive integer"),
            (#"{"hidden_size": 0}"#, "\"hidden_size\" is a JSON integer, expected a positive integer"),
            (#"{"block_size": 1.5}"#, "\"block_size\" is a JSON number, expected an integer"),
            (#"{"architectures": [1]}"#, "\"architectures\" is a JSON array, expected a list of class names"),
        ] {
            let error = #expect(throws: LSGError.self) { try ModelConfig(json: try JSONValue.parse(json), name: "x/config.json") }
            #expect(error?.description == "x/config.json: \(fragment)")
            #expect(error?.kind == .malformed)
            #expect(error?.subject == "x/config.json")
        }
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let url = scratch.appendingPathComponent("config.json")
        try Data("{\"a\": 1, \"a\": [2}".utf8).write(to: url)
        let error = #expect(throws: LSGError.self) { try ModelConfig.load(from: url) }
        #expect(error?.description.hasPrefix(url.path + ": ") == true)
    }

    /// transformers prefers `model.safetensors` to a shard index beside it, and a `.bin` to its index.
    @Test func weightFilesArePreferredInTransformersOrder() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var writer = SafeTensorsWriter()
        try writer.add("a", floats: [1], shape: [1])
        try writer.write(to: scratch.appendingPathComponent("model.safetensors"))
        try Data(#"{"weight_map": {"b": "model-00001-of-00002.safetensors"}}"#.utf8)
            .write(to: scratch.appendingPathComponent("model.safetensors.index.json"))
        let store = try TensorStore(directory: scratch)
        #expect(store.names == ["a"] && !store.isSharded)
    }

    /// Python's json reads what transformers' configs may hold: a repeated key (the last value
    /// wins), NaN, and integers of any size, which are written back digit for digit.
    @Test func readsConfigsAsPythonDoes() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let url = scratch.appendingPathComponent("config.json")
        try Data(#"{"hidden_size": 8, "hidden_size": 16, "layer_norm_eps": NaN, "seed": 123456789012345678901234567890}"#.utf8).write(to: url)
        let config = try ModelConfig.load(from: url)
        #expect(config.hiddenSize == 16)
        #expect(config["layer_norm_eps"]?.doubleValue?.isNaN == true)
        #expect(config["seed"] == .bigInteger("123456789012345678901234567890"))
    }
}

struct ModelFamilyTests {
    @Test func familiesKnowOffsetsPrefixesAndClasses() throws {
        #expect(ModelFamily.allCases.map(\.positionOffset) == [2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 0])
        #expect(ModelFamily(modelType: "mbart", tokenizerClass: "BarthezTokenizer") == .barthez)
        #expect(ModelFamily(modelType: "mbart", tokenizerClass: "MBartTokenizer") == .mbart)
        #expect(ModelFamily.barthez.modelType == "mbart")
        #expect(ModelFamily.bart.architectures.map(\.className) == [
            "BartModel", "BartForCausalLM", "BartForConditionalGeneration", "BartForQuestionAnswering",
            "BartForSequenceClassification",
        ])
        #expect(ModelFamily.bart.architecture(named: "BartForCausalLM")?.refusal?.contains("lsg-converter 0.1.9 fails") == true)
        #expect(ModelFamily.pegasus.architectures.map(\.className) == ["PegasusModel", "PegasusForCausalLM", "PegasusForConditionalGeneration"])
        #expect(ModelFamily(modelType: "xlm-roberta") == .xlmRoberta)
        #expect(ModelFamily(modelType: "gpt2") == nil)
        let camembert = ModelFamily.camembert
        #expect(camembert.architectures.map(\.className) == [
            "CamembertModel", "CamembertForMaskedLM", "CamembertForCausalLM", "CamembertForMultipleChoice",
            "CamembertForQuestionAnswering", "CamembertForSequenceClassification", "CamembertForTokenClassification",
        ])
        #expect(ModelFamily.bert.architectures.count == 8)
        #expect(ModelFamily.bert.architecture(named: "BertLMHeadModel")?.lsgClassName == "LSGBertLMHeadModel")
        #expect(camembert.architecture(named: "LSGCamembertForMaskedLM")?.head == .maskedLM)
        #expect(camembert.architecture(named: "BertModel") == nil)
        #expect(camembert.defaultArchitecture.className == "CamembertForMaskedLM")
        #expect(ModelFamily.bert.defaultArchitecture.className == "BertForPreTraining")
        let autoMap = Dictionary(uniqueKeysWithValues: ModelFamily.xlmRoberta.autoMap)
        #expect(autoMap["AutoConfig"] == "modeling_lsg_xlm_roberta.LSGXLMRobertaConfig")
        #expect(autoMap["AutoModelForMaskedLM"] == "modeling_lsg_xlm_roberta.LSGXLMRobertaForMaskedLM")
        #expect(autoMap.count == 8)
        #expect(Dictionary(uniqueKeysWithValues: ModelFamily.bert.autoMap)["AutoModelForPreTraining"] == "modeling_lsg_bert.LSGBertForPreTraining")
    }

    @Test func storedTensorsFollowTheStateDictOrder() throws {
        let masked = try #require(ModelFamily.roberta.architecture(named: "RobertaForMaskedLM"))
        let names = masked.storedTensors(layers: .unshared(1), tieWordEmbeddings: true)
        #expect(names.prefix(6) == ["roberta.embeddings.word_embeddings.weight", "roberta.embeddings.position_embeddings.weight",
                                    "roberta.embeddings.token_type_embeddings.weight", "roberta.embeddings.LayerNorm.weight",
                                    "roberta.embeddings.LayerNorm.bias", "roberta.embeddings.global_embeddings.weight"])
        #expect(names.count == 6 + 16 + 5)
        #expect(names.suffix(5) == ["lm_head.bias", "lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight", "lm_head.layer_norm.bias"])
        #expect(masked.storedTensors(layers: .unshared(1), tieWordEmbeddings: false).last == "lm_head.decoder.weight")
        let base = try #require(ModelFamily.bert.architecture(named: "BertModel"))
        #expect(base.storedTensors(layers: .unshared(0), tieWordEmbeddings: true).suffix(2) == ["pooler.dense.weight", "pooler.dense.bias"])
    }
}

struct TokenizerFilesTests {
    @Test("special ids come from the tokenizer files", arguments: [
        ("camembert-tiny", 5, 256), ("roberta-tiny", 0, 360), ("xlm-roberta-tiny", 0, 401), ("bert-tiny", 2, 4),
        ("distilbert-tiny", 2, 4), ("electra-tiny", 2, 4), ("albert-tiny", 2, 4),
    ])
    func fixtureIds(_ name: String, _ start: Int, _ mask: Int) throws {
        let model = try ModelDirectory(url: fixtures.appendingPathComponent(name))
        #expect(model.tokenizer.sequenceStartId(config: model.config) == start)
        #expect(model.tokenizer.maskTokenId == mask)
    }

    /// Ids follow transformers' AutoTokenizer in every layout (TokenizersTests, golden/tokenizers);
    /// with no tokenizer files at all, the sequence start falls back to config.json.
    @Test func withoutTokenizerFilesTheStartIdComesFromTheConfig() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let config = try ModelConfig(json: ["bos_token_id": 42, "model_type": "bert"], name: "c")
        #expect(try TokenizerFiles(directory: scratch, config: config).sequenceStartId(config: config) == 42)
    }

    @Test func tokenizerConfigGetsTheNewLength() throws {
        let directory = fixtures.appendingPathComponent("roberta-tiny")
        let tokenizer = try TokenizerFiles(directory: directory, config: try ModelConfig.load(from: directory.appendingPathComponent("config.json")))
        let value = try JSONValue.parse(try tokenizer.tokenizerConfig(modelMaxLength: 4096))
        #expect(value["model_max_length"] == 4096)
        #expect(tokenizer.fileNames.contains("merges.txt") && tokenizer.fileNames.contains("added_tokens.json"))
    }
}

struct ModelLocatorTests {
    @Test func resolvesLocalDirectoriesThenTheCache() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let local = scratch.appendingPathComponent("my-model")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: false)
        let locator = ModelLocator(environment: [:], currentDirectory: scratch)
        #expect(try locator.resolve("my-model").directory.path == local.standardizedFileURL.path)
        #expect(try locator.resolve(local.path).origin == .localDirectory)

        let commit = String(repeating: "ab", count: 20)
        for (environment, hub) in [
            (["HF_HUB_CACHE": scratch.appendingPathComponent("cache").path], scratch.appendingPathComponent("cache")),
            (["HF_HOME": scratch.appendingPathComponent("home").path], scratch.appendingPathComponent("home/hub")),
            (["HOME": scratch.path], scratch.appendingPathComponent(".cache/huggingface/hub")),
        ] {
            let repositoryDirectory = hub.appendingPathComponent("models--org--name")
            try FileManager.default.createDirectory(at: repositoryDirectory.appendingPathComponent("snapshots/\(commit)"),
                                                    withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: repositoryDirectory.appendingPathComponent("refs"), withIntermediateDirectories: true)
            try Data("\(commit)\n".utf8).write(to: repositoryDirectory.appendingPathComponent("refs/main"))
            let resolved = try ModelLocator(environment: environment, currentDirectory: scratch).resolve("org/name")
            #expect(resolved.origin == .huggingFaceCache)
            #expect(resolved.revision == commit)
            #expect(resolved.directory.path == repositoryDirectory.appendingPathComponent("snapshots/\(commit)").path)
        }
    }

    @Test func notFoundSaysWhereItLooked() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let locator = ModelLocator(environment: ["HF_HUB_CACHE": scratch.path], currentDirectory: scratch)
        let error = #expect(throws: LSGError.self) { try locator.resolve("org/missing") }
        #expect(error?.kind == .missingFile)
        let message = error?.description ?? ""
        #expect(message.contains(scratch.appendingPathComponent("org/missing").path))
        #expect(message.contains(scratch.appendingPathComponent("models--org--missing").path))
        #expect(!message.contains("\n"))
    }
}

struct TensorStoreTests {
    @Test func singleFileAndShards() throws {
        let single = try TensorStore(directory: fixtures.appendingPathComponent("bert-tiny"))
        #expect(!single.isSharded && single.fileNames == ["model.safetensors"])
        #expect(single.info("bert.embeddings.word_embeddings.weight")?.shape.count == 2)
        #expect(try single.floats("bert.embeddings.LayerNorm.weight").count == 32)

        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for tensor in single.tensors {
            try writer.add(tensor.name, floats: try single.floats(tensor.name), shape: tensor.shape)
        }
        try writer.writeSharded(to: scratch, maxShardBytes: 60_000)
        let sharded = try TensorStore(directory: scratch)
        #expect(sharded.isSharded && sharded.files.count > 1)
        #expect(Set(sharded.names) == Set(single.names))
        #expect(sharded.fileNames.last == "model.safetensors.index.json")
        for name in single.names {
            #expect(try sharded.withBytes(of: name) { Data($0) } == (try single.withBytes(of: name) { Data($0) }))
        }
    }

    @Test func aDirectoryWithoutWeightsIsAClearError() throws {
        let scratch = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Data("{}".utf8).write(to: scratch.appendingPathComponent("config.json"))
        let error = #expect(throws: LSGError.self) { try TensorStore(directory: scratch) }
        #expect(error?.description.hasPrefix("\(scratch.path): no model.safetensors") == true, "\(String(describing: error))")
        #expect(error?.description.contains("\n") == false)
    }
}
