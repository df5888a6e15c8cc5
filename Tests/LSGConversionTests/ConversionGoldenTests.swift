import Checkpoint
import Foundation
import JSON
import LSGConversion
import SafeTensors
import Testing
import Zstd

/// Replays every reference conversion of `golden/conversions/` and compares the output with
/// what the reference wrote: tensors bit for bit, weight files byte for byte, config.json and
/// tokenizer_config.json.
struct ConversionGoldenTests {
    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ConversionFixtures.conversions.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: ConversionFixtures.conversions.appendingPathComponent("\($0)/case.json").path)
        }.sorted()
    }()

    struct GoldenCase {
        let name: String
        let directory: URL
        let description: JSONValue
        let tensors: JSONValue

        init(_ name: String) throws {
            self.name = name
            directory = ConversionFixtures.conversions.appendingPathComponent(name)
            description = try JSONValue.load(contentsOf: directory.appendingPathComponent("case.json"))
            tensors = try JSONValue.load(contentsOf: directory.appendingPathComponent("tensors.json"))
        }

        /// The reference call in our option names.
        func options(output: URL) throws -> ConversionOptions {
            try ConversionFixtures.options(
                referenceCall: try #require(description["reference_call"]),
                source: try #require(description["source"]?.stringValue), output: output)
        }

        func referenceFile(_ name: String) throws -> Data? {
            guard let stored = description["reference_files"]?[name]?["stored"]?.stringValue else { return nil }
            let url = ConversionFixtures.golden.appendingPathComponent(stored)
            return url.pathExtension == "zst" ? try Zstd.decompressFile(at: url) : try Data(contentsOf: url)
        }
    }

    /// Runs the case's conversion the way the reference was run (from `golden/`).
    static func convert(_ golden: GoldenCase) throws -> (output: URL, context: ConversionContext, cleanup: URL) {
        let scratch = try ConversionFixtures.temporaryDirectory(golden.name)
        let output = scratch.appendingPathComponent("out")
        var options = try golden.options(output: output)
        let config = try ModelConfig.load(from: ConversionFixtures.golden.appendingPathComponent(options.source).appendingPathComponent("config.json"))
        let family = try #require(config.family)
        // The reference's output holds its modeling_lsg_<family>.py, named by a local auto_map.
        options.modelingFile = try ConversionFixtures.modelingStandIn(for: family, in: scratch).path
        var conversion = Conversion(options: options, recipe: Recipe.standard(for: family), toolVersion: "test")
        conversion.locator = ModelLocator(environment: [:], currentDirectory: ConversionFixtures.golden)
        let context = try conversion.run()
        return (output, context, scratch)
    }

    @Test("every output tensor equals the reference's, bit for bit", arguments: caseNames)
    func tensorsMatch(_ name: String) throws {
        let golden = try GoldenCase(name)
        let (output, _, scratch) = try Self.convert(golden)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let store = try TensorStore(directory: output)
        let expected = try #require(golden.tensors["tensors"]?.arrayValue)
        #expect(Set(store.names) == Set(expected.compactMap { $0["name"]?.stringValue }), "tensor names")
        let names = store.names
        let hashes = try TensorHashing.sha256Hex(ofEach: names, in: store)
        let ours = Dictionary(uniqueKeysWithValues: zip(names, hashes))
        let randomTensors = golden.tensors["random_tensors"]?.objectValue ?? [:]
        for entry in expected {
            let tensorName = try #require(entry["name"]?.stringValue)
            let info = try #require(store.info(tensorName), "missing \(tensorName)")
            #expect(info.dtype.rawValue == entry["dtype"]?.stringValue, "\(tensorName) dtype")
            #expect(info.shape == entry["shape"]?.arrayValue?.compactMap(\.intValue), "\(tensorName) shape")
            if let sha256 = entry["sha256"]?.stringValue {
                #expect(ours[tensorName] == sha256, "\(tensorName) differs from the reference")
            } else {
                // Random by nature: the rows that do not depend on the seed must match.
                let rows = try #require(randomTensors[tensorName]?["deterministic_rows"]?.objectValue)
                try store.withBytes(of: tensorName) { bytes in
                    let rowBytes = bytes.count / info.shape[0]
                    for (row, sha256) in rows {
                        let index = try #require(Int(row))
                        let slice = UnsafeRawBufferPointer(rebasing: bytes[(index * rowBytes)..<((index + 1) * rowBytes)])
                        #expect(TensorHashing.sha256Hex(slice) == sha256.stringValue, "\(tensorName) row \(row)")
                    }
                }
            }
        }
    }

    @Test("weight files are byte-identical to the reference's (f32 sources)", arguments: caseNames)
    func weightFilesMatch(_ name: String) throws {
        let golden = try GoldenCase(name)
        let (output, _, scratch) = try Self.convert(golden)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let files = try #require(golden.description["reference_files"]?.objectValue)
        let weightFiles = files.filter { $0.key.hasSuffix(".safetensors") || $0.key == "model.safetensors.index.json" }
        #expect(!weightFiles.isEmpty)
        for (file, entry) in weightFiles {
            let url = output.appendingPathComponent(file)
            #expect(FileManager.default.fileExists(atPath: url.path), "\(file) missing")
            guard let sha256 = entry["sha256"]?.stringValue else { continue }  // holds a random tensor
            #expect(try ConversionFixtures.sha256(of: url) == sha256, "\(file) differs from the reference")
        }
    }

    @Test("config.json and tokenizer_config.json match the reference's", arguments: caseNames)
    func configsMatch(_ name: String) throws {
        let golden = try GoldenCase(name)
        let (output, _, scratch) = try Self.convert(golden)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // BARThez: the reference's LSGConverter converts it with its mBART script (model_type
        // "mbart"), whose auto_map names modeling_lsg_mbart; ours names the BARThez code, whose
        // classes have the same names. Everything else must be byte-identical.
        let config = try ModelConfig.load(from: ConversionFixtures.golden.appendingPathComponent(
            try #require(golden.description["source"]?.stringValue)).appendingPathComponent("config.json"))
        let module = try #require(config.family).lsgModule
        var referenceText = String(decoding: try #require(try golden.referenceFile("config.json")), as: UTF8.self)
        for script in ["modeling_lsg_mbart"] where script != module {
            referenceText = referenceText.replacingOccurrences(of: "\"\(script).", with: "\"\(module).")
        }
        let referenceData = Data(referenceText.utf8)
        let reference = try JSONValue.parse(referenceData)
        let ours = try JSONValue.load(contentsOf: output.appendingPathComponent("config.json"))
        let keys = LSGConfig.keys + ["architectures", "max_position_embeddings"]
        for key in keys {
            #expect(ours[key] == reference[key], "config.json \(key)")
        }
        #expect(ours["auto_map"]?.objectValue?.keys.sorted() == reference["auto_map"]?.objectValue?.keys.sorted())
        #expect(ours["auto_map"] == reference["auto_map"])
        let configData = try Data(contentsOf: output.appendingPathComponent("config.json"))
        #expect(configData == referenceData, "config.json byte-identical")

        let tokenizerConfig = try JSONValue.load(contentsOf: output.appendingPathComponent("tokenizer_config.json"))
        let maxLength = try #require(golden.description["reference_call"]?["init"]?["max_sequence_length"]?.intValue)
        #expect(tokenizerConfig["model_max_length"] == .int(maxLength))
        let referenceTokenizer = try JSONValue.parse(try #require(try golden.referenceFile("tokenizer_config.json")))
        #expect(tokenizerConfig == referenceTokenizer)
    }

    @Test("special ids are the tokenizer's, as the reference resolved them", arguments: caseNames)
    func specialIds(_ name: String) throws {
        let golden = try GoldenCase(name)
        let source = ConversionFixtures.golden.appendingPathComponent(try #require(golden.description["source"]?.stringValue))
        let model = try ModelDirectory(url: source)
        let ids = try #require(golden.description["reference_special_ids"])
        #expect(model.tokenizer.sequenceStartId(config: model.config) == ids["bos"]?.intValue)
        #expect(model.tokenizer.maskTokenId == ids["mask"]?.intValue)
    }
}
