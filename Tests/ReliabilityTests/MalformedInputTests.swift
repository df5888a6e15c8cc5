import Foundation
import Testing
import TestSupport

/// Hostile inputs through the command line: each is refused with one error line naming the
/// file or option and the problem, an exit status in 1...127, no output left behind, and the
/// source untouched.
@Suite(.timeLimit(.minutes(2)))
struct MalformedInputTests {
    // MARK: The malformed safetensors files of issue 2

    @Test("inspect refuses a malformed safetensors file", arguments: MalformedSafeTensors.all)
    func inspectRefuses(_ malformed: MalformedSafeTensors) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("bad.safetensors")
        try malformed.bytes.write(to: file)
        let result = try runTool(["inspect", file.path])
        expectRefusal(result, containing: [file.path + ": ", malformed.problem])
        #expect(try entries(of: scratch.url) == ["bad.safetensors"])
    }

    @Test("convert refuses a model directory with a malformed model.safetensors", arguments: MalformedSafeTensors.all)
    func convertRefuses(_ malformed: MalformedSafeTensors) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let weights = source.appendingPathComponent("model.safetensors")
        try malformed.bytes.write(to: weights)
        let before = try digests(of: source)
        let result = try runTool(["--from", source.path, "--max-length", "1024", "--out", scratch.file("out").path])
        expectRefusal(result, containing: [weights.path + ": ", malformed.problem])
        #expect(try entries(of: scratch.url) == ["source"])
        #expect(try digests(of: source) == before)
    }

    // MARK: Damaged model directories

    struct DamagedSource: Sendable, CustomStringConvertible {
        let description: String
        /// Damages the copied fixture.
        let damage: @Sendable (URL) throws -> Void
        /// Fragments of the error, given the source directory.
        let fragments: @Sendable (URL) -> [String]
    }

    static func write(_ text: String, to name: String) -> @Sendable (URL) throws -> Void {
        { source in try Data(text.utf8).write(to: source.appendingPathComponent(name)) }
    }

    static func replaceConfigKey(_ key: String, with value: String) -> @Sendable (URL) throws -> Void {
        { source in
            let url = source.appendingPathComponent("config.json")
            var text = try String(contentsOf: url, encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: "\"\(key)\": [^,\n}]*")
            let range = NSRange(text.startIndex..., in: text)
            #expect(pattern.firstMatch(in: text, range: range) != nil, "fixture config has no \(key)")
            text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: "\"\(key)\": \(value)")
            try Data(text.utf8).write(to: url)
        }
    }

    static func path(_ name: String) -> @Sendable (URL) -> [String] {
        { source in [source.appendingPathComponent(name).path + ": "] }
    }

    static let damagedSources: [DamagedSource] = [
        DamagedSource(description: "no config.json", damage: { try FileManager.default.removeItem(at: $0.appendingPathComponent("config.json")) },
                      fragments: { [$0.path + ": ", "no config.json"] }),
        DamagedSource(description: "config.json is not JSON", damage: write("{\"model_type\": camembert}", to: "config.json"),
                      fragments: { path("config.json")($0) + ["not valid JSON"] }),
        DamagedSource(description: "config.json is a JSON array", damage: write("[1, 2, 3]", to: "config.json"),
                      fragments: { path("config.json")($0) + ["config is a JSON array, expected an object"] }),
        DamagedSource(description: "config.json nests 100000 levels deep",
                      damage: write(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), to: "config.json"),
                      fragments: { path("config.json")($0) + ["nesting deeper than 512 levels"] }),
        DamagedSource(description: "config.json holds a 10000-deep array",
                      damage: write("{\"model_type\": \"camembert\", \"x\": " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}", to: "config.json"),
                      fragments: { path("config.json")($0) + ["nesting deeper than 512 levels"] }),
        DamagedSource(description: "config.json holds a number of 100000 digits", damage: replaceConfigKey("vocab_size", with: String(repeating: "7", count: 100_000)),
                      fragments: { path("config.json")($0) + ["integer of more than 4300 digits (Python's limit)"] }),
        DamagedSource(description: "tokenizer_config.json holds a float of 100000 digits",
                      damage: write("{\"model_max_length\": 0." + String(repeating: "5", count: 100_000) + "}", to: "tokenizer_config.json"),
                      fragments: { path("tokenizer_config.json")($0) + ["number of more than 4300 characters"] }),
        DamagedSource(description: "config.json is invalid UTF-8",
                      damage: { try Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]).write(to: $0.appendingPathComponent("config.json")) },
                      fragments: { path("config.json")($0) + ["invalid UTF-8"] }),
        DamagedSource(description: "config.json is a FIFO (would block forever)", damage: { source in
            let url = source.appendingPathComponent("config.json")
            try FileManager.default.removeItem(at: url)
            #expect(mkfifo(url.path, 0o600) == 0)
        }, fragments: { path("config.json")($0) + ["not a regular file"] }),
        DamagedSource(description: "config.json is 17 MiB", damage: { source in
            let padding = String(repeating: " ", count: 17 << 20)
            try Data(("{\"model_type\": \"camembert\"" + padding + "}").utf8).write(to: source.appendingPathComponent("config.json"))
        }, fragments: { path("config.json")($0) + ["more than the limit of 16777216"] }),
        DamagedSource(description: "hidden_size is a string", damage: replaceConfigKey("hidden_size", with: "\"large\""),
                      fragments: { path("config.json")($0) + ["\"hidden_size\" is a JSON string, expected a positive integer"] }),
        DamagedSource(description: "vocab_size is negative", damage: replaceConfigKey("vocab_size", with: "-3"),
                      fragments: { path("config.json")($0) + ["\"vocab_size\" is a JSON integer, expected a positive integer"] }),
        DamagedSource(description: "model.safetensors missing",
                      damage: { try FileManager.default.removeItem(at: $0.appendingPathComponent("model.safetensors")) },
                      fragments: { [$0.path + ": ", "no model.safetensors"] }),
        DamagedSource(description: "model.safetensors is a directory", damage: { source in
            let url = source.appendingPathComponent("model.safetensors")
            try FileManager.default.removeItem(at: url)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        }, fragments: { path("model.safetensors")($0) + ["not a regular file"] }),
        DamagedSource(description: "model.safetensors is a FIFO", damage: { source in
            let url = source.appendingPathComponent("model.safetensors")
            try FileManager.default.removeItem(at: url)
            #expect(mkfifo(url.path, 0o600) == 0)
        }, fragments: { path("model.safetensors")($0) + ["not a regular file"] }),
        DamagedSource(description: "shard index names a file outside the directory", damage: { source in
            try FileManager.default.moveItem(at: source.appendingPathComponent("model.safetensors"),
                                             to: source.appendingPathComponent("model-00001-of-00001.safetensors"))
            try Data(#"{"metadata": {}, "weight_map": {"roberta.embeddings.word_embeddings.weight": "../../etc/passwd"}}"#.utf8)
                .write(to: source.appendingPathComponent("model.safetensors.index.json"))
        }, fragments: { path("model.safetensors.index.json")($0) + ["shard name '../../etc/passwd'", "leaves the model directory"] }),
        DamagedSource(description: "shard index names a missing shard", damage: { source in
            try FileManager.default.removeItem(at: source.appendingPathComponent("model.safetensors"))
            try Data(#"{"metadata": {}, "weight_map": {"roberta.embeddings.word_embeddings.weight": "model-00001-of-00002.safetensors"}}"#.utf8)
                .write(to: source.appendingPathComponent("model.safetensors.index.json"))
        }, fragments: { path("model-00001-of-00002.safetensors")($0) + ["cannot open"] }),
        DamagedSource(description: "sentencepiece.bpe.model is a FIFO (the tokenizer copy would block forever)", damage: { source in
            let url = source.appendingPathComponent("sentencepiece.bpe.model")
            try FileManager.default.removeItem(at: url)
            #expect(mkfifo(url.path, 0o600) == 0)
        }, fragments: { path("sentencepiece.bpe.model")($0) + ["not a regular file"] }),
        DamagedSource(description: "vocab.txt is a FIFO (the token lookup would block forever)", damage: { source in
            try FileManager.default.removeItem(at: source.appendingPathComponent("tokenizer.json"))
            #expect(mkfifo(source.appendingPathComponent("vocab.txt").path, 0o600) == 0)
        }, fragments: { path("vocab.txt")($0) + ["not a regular file"] }),
        DamagedSource(description: "tokenizer_config.json is not JSON", damage: write("{bos_token: <s>}", to: "tokenizer_config.json"),
                      fragments: { path("tokenizer_config.json")($0) + ["not valid JSON"] }),
    ]

    @Test("convert refuses a damaged model directory", arguments: damagedSources)
    func damagedSourceIsRefused(_ damaged: DamagedSource) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        try damaged.damage(source)
        let before = try digests(of: source)
        let start = Date()
        let result = try runTool(["--from", source.path, "--max-length", "1024", "--out", scratch.file("out").path])
        expectRefusal(result, containing: damaged.fragments(source))
        #expect(Date().timeIntervalSince(start) < 20, "refusal took \(Date().timeIntervalSince(start)) s")
        #expect(try entries(of: scratch.url) == ["source"])
        #expect(try digests(of: source) == before)
    }

    // MARK: Recipes

    static let badRecipes: [(name: String, text: String, fragment: String)] = [
        ("not JSON", "stages: [resolve-source]", "not valid JSON"),
        ("a JSON string", "\"camembert\"", "a recipe is a JSON object, not a string"),
        ("unknown key", #"{"name": "x", "stages": ["resolve-source"], "stage": []}"#, "unknown recipe key 'stage'"),
        ("no stages", #"{"name": "x", "stages": []}"#, "recipe has no \"stages\" list"),
        ("unknown stage", #"{"name": "x", "stages": ["resolve-source", "quantize"]}"#, "unknown stage 'quantize'"),
        ("unknown stage parameter", #"{"name": "x", "stages": [{"stage": "extend-positions", "parameters": {"rows": 3}}]}"#,
         "stage 'extend-positions': unknown parameter 'rows'"),
        ("unknown option", #"{"name": "x", "stages": ["resolve-source"], "options": {"max_lenght": 4096}}"#, "unknown option 'max_lenght'"),
        ("option of the wrong type", #"{"name": "x", "stages": ["resolve-source"], "options": {"max_length": "long"}}"#, "max_length"),
    ]

    @Test("convert refuses a malformed recipe", arguments: badRecipes.indices)
    func badRecipeIsRefused(_ index: Int) throws {
        let recipe = Self.badRecipes[index]
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let recipeURL = scratch.file("recipe.json")
        try Data(recipe.text.utf8).write(to: recipeURL)
        let result = try runTool(["--from", source.path, "--recipe", recipeURL.path, "--out", scratch.file("out").path])
        expectRefusal(result, containing: [recipe.fragment])
        #expect(try entries(of: scratch.url) == ["recipe.json", "source"], "\(recipe.name)")
    }

    @Test func missingRecipeIsRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let result = try runTool(["--from", source.path, "--recipe", "no-such-recipe", "--out", scratch.file("out").path], in: scratch.url)
        expectRefusal(result, containing: ["recipe 'no-such-recipe' not found"])
        #expect(try entries(of: scratch.url) == ["source"])
    }

    // MARK: Outputs and option combinations

    @Test func outputThatIsAFileIsRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let output = scratch.file("out")
        try Data("keep".utf8).write(to: output)
        let result = try runTool(["--from", source.path, "--out", output.path])
        expectRefusal(result, containing: [output.path + ": exists and is not a directory"])
        #expect(try String(contentsOf: output, encoding: .utf8) == "keep")
    }

    @Test func outputInsideTheSourceIsRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let before = try digests(of: source)
        let result = try runTool(["--from", source.path, "--out", source.appendingPathComponent("lsg").path])
        expectRefusal(result, containing: ["must not be, contain or lie inside the source"])
        #expect(try digests(of: source) == before)
    }

    @Test("option combinations that cannot work", arguments: [
        (["--resize-lsg", "--keep-first-global-token"], "--keep-first-global-token has no effect with --resize-lsg"),
        (["--resize-lsg", "--random-global-init"], "--random-global-init has no effect with --resize-lsg"),
        (["--num-global-tokens", "513"], "number of global tokens must be between 1 and 512 (got 513)"),
        (["--max-shard-size", "0"], "--max-shard-size '0' is not a size"),
        (["--dtype", "f64"], "unknown dtype 'f64'"),
        (["--seed=-1"], "--seed must not be negative"),
        (["--sparse-block-size=-1"], "--sparse-block-size must be at least 0 (got -1)"),
        (["--lsh-num-pre-rounds=-2"], "--lsh-num-pre-rounds must be at least 0 (got -2)"),
    ])
    func impossibleOptions(_ options: [String], _ fragment: String) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let result = try runTool(["--from", source.path, "--out", scratch.file("out").path] + options)
        expectRefusal(result, containing: [fragment])
        #expect(try entries(of: scratch.url) == ["source"])
    }

    @Test func sourceThatIsAFileIsRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("model.safetensors")
        try FileManager.default.copyItem(at: goldenDirectory.appendingPathComponent("fixtures/camembert-tiny/model.safetensors"), to: file)
        let result = try runTool(["--from", file.path, "--out", scratch.file("out").path])
        expectRefusal(result, containing: [file.path])
        #expect(try entries(of: scratch.url) == ["model.safetensors"])
    }

    @Test func inspectRefusesADirectoryWithoutWeights() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let result = try runTool(["inspect", scratch.url.path])
        expectRefusal(result, containing: [scratch.url.path + ": no model.safetensors"])
    }

    @Test func inspectRefusesACorruptZstdFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let file = scratch.file("bad.safetensors.zst")
        try Data([0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x01, 0x02, 0x03]).write(to: file)
        let result = try runTool(["inspect", file.path])
        expectRefusal(result, containing: [file.path + ": "])
    }
}
