import Checkpoint
import Foundation
import Golden
import JSON
import LSGConversion
import LSGErrors
import SafeTensors
import Testing
import Zstd

/// The checkpoint zoo (`golden/zoo/`, golden/SCHEMA.md): source directories shaped like real hub
/// uploads (legacy and zip `.bin`, shards, f16/bf16, old configs and tokenizer files, fine-tuned
/// heads, TF-era names, prefixes, buffers, tied weights), each converted by the reference.
/// Every case assembles its source in a scratch directory, converts it with the library the way
/// the reference was called, and compares the output with the reference's: tensors (name, dtype,
/// shape, sha256), config.json, tokenizer_config.json's model_max_length, the special ids, and
/// the encoder's outputs on the recorded inputs. All differences of a case are collected; the
/// failure names the case, the first difference and how many there are.
@Suite struct ZooTests {
    static let zoo = ConversionFixtures.golden.appendingPathComponent("zoo")

    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: zoo.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(atPath: zoo.appendingPathComponent("\($0)/case.json").path)
        }.sorted()
    }()

    @Test func theZooCoversTheLayoutsItMust() throws {
        #expect(Self.caseNames.count >= 22)
        let cases = try Self.caseNames.map(ZooCase.init)
        #expect(Set(cases.compactMap { $0.description["family"]?.stringValue })
            == ["camembert", "roberta", "xlm-roberta", "bert", "distilbert", "electra"])
        let files = cases.flatMap { $0.sourceFiles.compactMap { $0["name"]?.stringValue } }
        for name in ["pytorch_model.bin", "pytorch_model.bin.index.json", "model.safetensors.index.json",
                     "sentencepiece.bpe.model", "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json"] {
            #expect(files.contains(name), "no zoo case has \(name)")
        }
        #expect(cases.contains { $0.description["reference_fails"]?.stringValue != nil })
    }

    @Test(arguments: caseNames)
    func conversionMatchesTheReference(_ name: String) throws {
        let zooCase = try ZooCase(name)
        let scratch = try ConversionFixtures.temporaryDirectory(name)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let differences = zooCase.differences(scratch: scratch)
        if let first = differences.first {
            let more = differences.count > 1 ? "\n" + differences.dropFirst().prefix(9).joined(separator: "\n") : ""
            Issue.record("zoo case \(name): \(differences.count) difference(s); first: \(first)\(more)")
        }
    }
}

/// One `golden/zoo/<case>/case.json` and the checks run on it.
struct ZooCase {
    static let pack = "zoo/sources.safetensors.zst"

    let name: String
    let description: JSONValue
    /// The case whose reference output applies (itself, or `expected_from` when the reference fails).
    let expected: JSONValue

    init(_ name: String) throws {
        self.name = name
        description = try JSONValue.load(contentsOf: ZooTests.zoo.appendingPathComponent("\(name)/case.json"))
        if let other = description["expected_from"]?.stringValue {
            expected = try JSONValue.load(contentsOf: ZooTests.zoo.appendingPathComponent("\(other)/case.json"))
        } else {
            expected = description
        }
    }

    var sourceFiles: [JSONValue] { description["source"]?["files"]?.arrayValue ?? [] }

    /// The reference failed on this case: its expectations are another case's (`expected_from`).
    var borrowsExpectations: Bool { description["expected_from"]?.stringValue != nil }

    /// Every difference from the reference, in check order: assembly, conversion, tensors,
    /// config.json, tokenizer_config.json, special ids, weight file bytes, encoder outputs.
    func differences(scratch: URL) -> [String] {
        var differences: [String] = []
        let source: URL
        let output = scratch.appendingPathComponent("out")
        do {
            source = try assemble(in: scratch)
        } catch {
            return ["assembling the source failed: \(error)"]
        }
        guard let reference = expected["reference_output"] else {
            return ["no reference_output in \(expected["case"]?.stringValue ?? "?")"]
        }
        do {
            try convert(source: source, output: output, in: scratch)
        } catch {
            differences.append("conversion failed: \(error)")
        }
        differences += specialIdDifferences(source: source, reference: reference)
        guard FileManager.default.fileExists(atPath: output.appendingPathComponent("config.json").path) else {
            return differences
        }
        differences += tensorDifferences(output: output, reference: reference)
        differences += configDifferences(output: output, reference: reference)
        differences += fileDifferences(output: output, reference: reference)
        differences += encoderDifferences(output: output)
        return differences
    }

    // MARK: - Source

    /// Writes the source directory (`source.directory` under `parent`) and checks every file's sha256.
    func assemble(in parent: URL) throws -> URL {
        let directoryName = try #require(description["source"]?["directory"]?.stringValue)
        let directory = parent.appendingPathComponent(directoryName)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for entry in sourceFiles {
            let file = try #require(entry["name"]?.stringValue)
            let data = try Self.bytes(of: entry, in: name)
            let digest = data.withUnsafeBytes(TensorHashing.sha256Hex)
            guard digest == entry["sha256"]?.stringValue, data.count == entry["size"]?.intValue else {
                throw LSGError(.malformed, "\(file): assembled \(data.count) bytes with sha256 \(digest), case.json records "
                    + "\(entry["size"]?.intValue ?? -1) bytes with \(entry["sha256"]?.stringValue ?? "none")")
            }
            try data.write(to: directory.appendingPathComponent(file))
        }
        return directory
    }

    /// The bytes of one source file: stored in the pack, stored elsewhere under golden/, or derived.
    static func bytes(of entry: JSONValue, in caseName: String) throws -> Data {
        if let derived = entry["derived"] {
            let other = try ZooCase(try #require(derived["from_case"]?.stringValue))
            let otherName = try #require(derived["from_file"]?.stringValue)
            let original = try #require(other.sourceFiles.first { $0["name"]?.stringValue == otherName })
            let data = try bytes(of: original, in: other.name)
            switch derived["transform"]?.stringValue {
            case "strip_safetensors_metadata": return try stripSafeTensorsMetadata(data)
            case let transform: throw LSGError(.malformed, "\(caseName): unknown transform \(transform ?? "none")")
            }
        }
        let stored = try #require(entry["stored"]?.stringValue)
        if stored == pack {
            let sha256 = try #require(entry["sha256"]?.stringValue)
            let file = try packFile()
            guard file.info(sha256) != nil else { throw LSGError(.malformed, "\(pack) has no blob \(sha256)") }
            return try file.withBytes(of: sha256) { Data($0) }
        }
        let url = ConversionFixtures.golden.appendingPathComponent(stored)
        return url.pathExtension == "zst" ? try Zstd.decompressFile(at: url) : try Data(contentsOf: url)
    }

    private static func packFile() throws -> SafeTensorsFile {
        try WeightFiles.openFile(ConversionFixtures.golden.appendingPathComponent(pack))
    }

    /// SCHEMA.md's `strip_safetensors_metadata`: the header loses `"__metadata__":{"format":"pt"},`
    /// and is padded with as many spaces at its end, so that every offset stays the same.
    static func stripSafeTensorsMetadata(_ data: Data) throws -> Data {
        let prefix = Data(#"{"__metadata__":{"format":"pt"},"#.utf8)
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw LSGError(.malformed, "not a safetensors file") }
        let size = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        guard 8 + size <= bytes.count, Data(bytes[8..<(8 + prefix.count)]) == prefix else {
            throw LSGError(.malformed, "safetensors header does not start with the pt metadata")
        }
        var result = Data(bytes[0..<8])
        result.append(UInt8(ascii: "{"))
        result.append(contentsOf: bytes[(8 + prefix.count)..<(8 + size)])
        result.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: prefix.count - 1))
        result.append(contentsOf: bytes[(8 + size)...])
        return result
    }

    // MARK: - Conversion

    /// The reference call in our option names, run from the directory that holds the source, as
    /// the reference was (so that `_name_or_path` is the same relative name).
    func convert(source: URL, output: URL, in scratch: URL) throws {
        var options = try ConversionFixtures.options(
            referenceCall: try #require(description["reference_call"]),
            source: source.lastPathComponent, output: output)
        let config = try ModelConfig.load(from: source.appendingPathComponent("config.json"))
        let family = try #require(config.family, "config.json names no known family")
        options.modelingFile = try ConversionFixtures.modelingStandIn(for: family, in: scratch).path
        var conversion = Conversion(options: options, recipe: Recipe.standard(for: family), toolVersion: "test")
        conversion.locator = ModelLocator(environment: [:], currentDirectory: scratch)
        _ = try conversion.run()
    }

    // MARK: - Checks

    func tensorDifferences(output: URL, reference: JSONValue) -> [String] {
        let store: TensorStore
        do {
            store = try TensorStore(directory: output)
        } catch {
            return ["output weights unreadable: \(error)"]
        }
        var differences: [String] = []
        let expected = reference["tensors"]?.arrayValue ?? []
        let expectedNames = Set(expected.compactMap { $0["name"]?.stringValue })
        for name in expectedNames.subtracting(store.names).sorted() { differences.append("tensor \(name) missing") }
        for name in Set(store.names).subtracting(expectedNames).sorted() {
            differences.append("tensor \(name) not in the reference output")
        }
        let random = reference["random_tensors"]?.objectValue ?? [:]
        for entry in expected {
            guard let name = entry["name"]?.stringValue, let info = store.info(name) else { continue }
            let dtype = entry["dtype"]?.stringValue ?? "?"
            let shape = entry["shape"]?.arrayValue?.compactMap(\.intValue) ?? []
            if info.dtype.rawValue != dtype { differences.append("tensor \(name): dtype \(info.dtype.rawValue), reference \(dtype)") }
            if info.shape != shape { differences.append("tensor \(name): shape \(info.shape), reference \(shape)") }
            guard info.dtype.rawValue == dtype, info.shape == shape else { continue }
            do {
                if let sha256 = entry["sha256"]?.stringValue {
                    let ours = try TensorHashing.sha256Hex(ofEach: [name], in: store)[0]
                    if ours != sha256 { differences.append("tensor \(name): bytes differ from the reference's") }
                } else if let rows = random[name]?["deterministic_rows"]?.arrayValue?.compactMap(\.intValue),
                          let sha256 = random[name]?["deterministic_rows_sha256"]?.stringValue {
                    // Random by nature: the rows that do not depend on the seed must match.
                    let ours = try store.withBytes(of: name) { bytes -> String in
                        let rowBytes = bytes.count / max(shape.first ?? 1, 1)
                        var joined = Data()
                        for row in rows {
                            joined.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(row * rowBytes)..<((row + 1) * rowBytes)]))
                        }
                        return joined.withUnsafeBytes(TensorHashing.sha256Hex)
                    }
                    if ours != sha256 { differences.append("tensor \(name): its \(rows.count) deterministic rows differ from the reference's") }
                }
            } catch {
                differences.append("tensor \(name): unreadable (\(error))")
            }
        }
        return differences
    }

    func configDifferences(output: URL, reference: JSONValue) -> [String] {
        let ours: JSONValue
        do {
            ours = try JSONValue.load(contentsOf: output.appendingPathComponent("config.json"))
        } catch {
            return ["config.json unreadable: \(error)"]
        }
        guard var theirs = reference["config"]?.objectValue, let mine = ours.objectValue else {
            return ["config.json is not an object"]
        }
        if borrowsExpectations {
            // The reference wrote the name of the other case's source directory.
            theirs["_name_or_path"] = description["source"]?["directory"]
        }
        var differences: [String] = []
        // The LSG fields first, then every other key.
        let lsgKeys = LSGConfig.keys + ["architectures", "auto_map", "max_position_embeddings"]
        let otherKeys = Set(theirs.keys).union(mine.keys).subtracting(lsgKeys).sorted()
        for key in lsgKeys + otherKeys where mine[key] != theirs[key] {
            differences.append("config.json \(key): ours \(Self.text(mine[key])), reference \(Self.text(theirs[key]))")
        }
        return differences
    }

    func fileDifferences(output: URL, reference: JSONValue) -> [String] {
        var differences: [String] = []
        let maxLength = description["reference_call"]?["init"]?["max_sequence_length"]?.intValue
        do {
            let tokenizerConfig = try JSONValue.load(contentsOf: output.appendingPathComponent("tokenizer_config.json"))
            if tokenizerConfig["model_max_length"]?.intValue != maxLength {
                differences.append("tokenizer_config.json model_max_length: ours \(Self.text(tokenizerConfig["model_max_length"])), "
                    + "reference \(Self.text(reference["tokenizer_model_max_length"]))")
            }
        } catch {
            differences.append("tokenizer_config.json unreadable: \(error)")
        }
        // Byte identity of the files whose bytes do not depend on the seed.
        for file in ["config.json", "model.safetensors"] where !(file == "config.json" && borrowsExpectations) {
            guard let sha256 = reference["files"]?[file]?["sha256"]?.stringValue else { continue }
            let ours = try? ConversionFixtures.sha256(of: output.appendingPathComponent(file))
            if ours != sha256 { differences.append("\(file) is not byte-identical to the reference's") }
        }
        return differences
    }

    func specialIdDifferences(source: URL, reference: JSONValue) -> [String] {
        let model: ModelDirectory
        do {
            model = try ModelDirectory(url: source)
        } catch {
            return ["source directory unreadable: \(error)"]
        }
        var differences: [String] = []
        let reported = reference["special_ids"]
        let checks: [(String, Int?, JSONValue?)] = [
            ("bos", model.tokenizer.bosTokenId, reported?["bos"]),
            ("cls", model.tokenizer.clsTokenId, reported?["cls"]),
            ("mask", model.tokenizer.maskTokenId, reported?["mask"]),
            ("global row 0 (bos, else cls, else config)", model.tokenizer.sequenceStartId(config: model.config), reference["global_ids"]?["bos"]),
        ]
        for (role, ours, theirs) in checks where ours.map(JSONValue.int) ?? .null != theirs ?? .null {
            differences.append("special id \(role): ours \(ours.map(String.init) ?? "none"), AutoTokenizer \(Self.text(theirs))")
        }
        return differences
    }

    func encoderDifferences(output: URL) -> [String] {
        guard let path = expected["encoder"]?["golden"]?.stringValue else { return ["no encoder golden"] }
        let url = ConversionFixtures.golden.appendingPathComponent(path)
        do {
            let golden = try GoldenCase(contentsOf: url)
            let model = try ModelDirectory(url: output)
            let outputs = try golden.run(model: model, threads: 1)
            let standard = golden.compare(outputs, atol: golden.atol, rtol: 0, title: "encoder")
            var comparisons = standard.comparisons
            if let recipe = expected["encoder"]?["head"], recipe != .null, recipe["random_by_nature"]?.boolValue != true {
                comparisons += try headComparisons(recipe: recipe, golden: golden, goldenURL: url, outputs: outputs, model: model)
            }
            let report = ValidationReport(title: "encoder", comparisons: comparisons, errors: standard.errors)
            return report.passed ? [] : [report.summary]
        } catch {
            return ["encoder: \(error)"]
        }
    }

    /// The task head applied to our encoder's outputs with our converted weights, compared with
    /// the reference's `head.<output>` tensors (only at real tokens for per-token heads).
    func headComparisons(
        recipe: JSONValue, golden: GoldenCase, goldenURL: URL, outputs: [String: (shape: [Int], values: [Float])],
        model: ModelDirectory
    ) throws -> [OutputComparison] {
        let input = try #require(recipe["input"]?.stringValue)
        let names = (recipe["outputs"]?.arrayValue ?? []).compactMap(\.stringValue)
        let (batch, length) = (golden.input.batchSize, golden.input.length)
        var rows: [[Float]] = []
        switch input {
        case "pooler_output":
            let pooled = try #require(outputs["pooler_output"], "no pooler_output")
            let width = pooled.values.count / batch
            rows = (0..<batch).map { Array(pooled.values[($0 * width)..<(($0 + 1) * width)]) }
        case "first_token", "every_token":
            let hidden = try #require(outputs["last_hidden_state"], "no last_hidden_state")
            let width = hidden.values.count / (batch * length)
            let positions = input == "first_token" ? (0..<batch).map { $0 * length } : Array(0..<(batch * length))
            rows = positions.map { Array(hidden.values[($0 * width)..<(($0 + 1) * width)]) }
        default:
            throw LSGError(.malformed, "unknown head input \(input)")
        }
        for layer in recipe["layers"]?.arrayValue ?? [] {
            let prefix = try #require(layer.arrayValue?.first?.stringValue)
            let weight = try model.tensors.floats(prefix + ".weight")
            let bias = try model.tensors.floats(prefix + ".bias")
            let inputs = rows.first?.count ?? 0
            rows = rows.map { row in
                (0..<bias.count).map { out in
                    var sum = Double(bias[out])
                    for i in 0..<inputs { sum += Double(row[i]) * Double(weight[out * inputs + i]) }
                    return Self.activation(layer.arrayValue?.dropFirst().first?.stringValue, Float(sum))
                }
            }
        }
        let file = try WeightFiles.openFile(goldenURL)
        let mask = golden.input.attentionMask
        return try names.enumerated().map { index, name in
            let info = try #require(file.info("head.\(name)"), "no head.\(name)")
            let part = (rows.first?.count ?? 0) / names.count
            let actual = rows.flatMap { $0[(index * part)..<((index + 1) * part)] }
            return OutputComparison(
                name: "head.\(name)", expected: try file.floats("head.\(name)"), expectedShape: info.shape,
                actual: actual, actualShape: info.shape, atol: golden.atol,
                include: { flat in input != "every_token" || mask?[flat / max(part, 1)] ?? 1 == 1 })
        }
    }

    static func activation(_ name: String?, _ x: Float) -> Float {
        switch name {
        case "tanh": return tanh(x)
        case "relu": return max(0, x)
        case "gelu": return Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot())))
        default: return x
        }
    }

    static func text(_ value: JSONValue?) -> String {
        value?.compactString() ?? "absent"
    }
}
