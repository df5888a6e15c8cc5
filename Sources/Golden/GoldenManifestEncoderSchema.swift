import Checkpoint
import Foundation
import JSON
import LSGEncoder
import SafeTensors

/// The encoder golden layout of golden/SCHEMA.md, checked on a parsed file. Used by the manifest
/// verification so that a golden that parses but lost a tensor or a metadata key fails CI.
enum EncoderGoldenSchema {
    static let formatVersion = "1"
    static let requiredMetadata = [
        "format_version", "case", "family", "model", "model_class", "attention", "overrides", "head", "shape",
        "lengths", "atol", "compare", "lsh_projections", "seed", "generator",
    ]
    static let families = Set(ModelFamily.allCases.map(\.rawValue))
    static let heads: Set = ["mlm", "base"]
    static let attentions: Set = ["lsg", "full"]
    static let shapes: Set = ["short", "adaptive", "max", "padded-batch", "exact-blocks"]
    static let projectionPrefix = "lsh.projection."

    static func problems(in file: SafeTensorsFile, path: String, root: URL) -> [String] {
        var problems: [String] = []
        func fail(_ problem: String) { problems.append("\(path): \(problem)") }

        let metadata = file.metadata ?? [:]
        for key in requiredMetadata where metadata[key] == nil { fail("metadata has no '\(key)'") }
        guard problems.isEmpty else { return problems }
        let value = { (key: String) in metadata[key]! }

        if value("format_version") != formatVersion { fail("format_version '\(value("format_version"))' is not \(formatVersion)") }
        let stem = String(path.split(separator: "/").last!.dropLast(".safetensors.zst".count))
        if value("case") != stem { fail("metadata case '\(value("case"))' differs from the file name '\(stem)'") }
        if !families.contains(value("family")) { fail("unknown family '\(value("family"))'") }
        if !heads.contains(value("head")) { fail("unknown head '\(value("head"))'") }
        if !attentions.contains(value("attention")) { fail("unknown attention '\(value("attention"))'") }
        if !shapes.contains(value("shape")) { fail("unknown shape '\(value("shape"))'") }
        if value("model_class").isEmpty { fail("empty model_class") }
        if let atol = Double(value("atol")), atol > 0, atol.isFinite {} else { fail("atol '\(value("atol"))' is not a positive number") }
        if Int(value("seed")) == nil { fail("seed '\(value("seed"))' is not an integer") }
        switch Result(catching: { try JSONValue.parse(value("overrides")) }) {
        case .success(let overrides) where overrides.objectValue != nil: break
        default: fail("overrides is not a JSON object")
        }
        let modelConfig = root.appendingPathComponent(value("model")).appendingPathComponent("config.json")
        if value("model").contains("..") || !FileManager.default.fileExists(atPath: modelConfig.path) {
            fail("model directory '\(value("model"))' has no config.json in the golden directory")
        }

        // Tensor shapes: [B, L] inputs, [B, L, H] / [B, L, V] / [B, H] outputs, rank-5 projections.
        func tensor(_ name: String, _ dtype: DType, rank: Int, required: Bool = true) -> [Int]? {
            guard let info = file.info(name) else {
                if required { fail("no tensor '\(name)'") }
                return nil
            }
            guard info.dtype == dtype, info.shape.count == rank, info.shape.allSatisfy({ $0 > 0 }) else {
                fail("tensor '\(name)' is \(info.dtype.rawValue) \(info.shape), expected \(dtype.rawValue) of rank \(rank)")
                return nil
            }
            return info.shape
        }
        let ids = tensor("input_ids", .i64, rank: 2)
        let mask = tensor("attention_mask", .i64, rank: 2)
        let types = tensor("token_type_ids", .i64, rank: 2, required: false)
        let hidden = tensor("expected.last_hidden_state", .f32, rank: 3)
        let logits = tensor("expected.logits", .f32, rank: 3, required: value("head") == "mlm")
        let pooled = tensor("expected.pooler_output", .f32, rank: 2, required: false)
        if value("head") == "base" && file.info("expected.logits") != nil { fail("head 'base' with expected.logits") }
        guard let ids, let mask, let hidden else { return problems }
        let (batch, length) = (ids[0], ids[1])
        if mask != ids { fail("attention_mask \(mask) differs from input_ids \(ids)") }
        if let types, types != ids { fail("token_type_ids \(types) differs from input_ids \(ids)") }
        if Array(hidden.prefix(2)) != ids { fail("expected.last_hidden_state \(hidden) does not start with [\(batch), \(length)]") }
        if let logits, Array(logits.prefix(2)) != ids { fail("expected.logits \(logits) does not start with [\(batch), \(length)]") }
        if let pooled, pooled != [batch, hidden[2]] { fail("expected.pooler_output \(pooled) is not [\(batch), \(hidden[2])]") }

        problems += lengthProblems(file: file, lengths: value("lengths"), batch: batch, length: length).map { "\(path): \($0)" }
        problems += projectionProblems(file: file, declared: value("lsh_projections"), hiddenSize: hidden[2],
                                       attention: value("attention")).map { "\(path): \($0)" }

        let known: Set = ["input_ids", "attention_mask", "token_type_ids", "expected.last_hidden_state",
                          "expected.logits", "expected.pooler_output"]
        let replayPrefixes = [projectionPrefix, RecordedNormSelections.tensorPrefix]
        for name in file.names where !known.contains(name) && !replayPrefixes.contains(where: { name.hasPrefix($0) }) {
            fail("unexpected tensor '\(name)'")
        }
        return problems
    }

    /// `lengths` names each row's real length; `attention_mask` must be ones then zeros accordingly.
    static func lengthProblems(file: SafeTensorsFile, lengths text: String, batch: Int, length: Int) -> [String] {
        let array = (try? JSONValue.parse(text))?.arrayValue ?? []
        let lengths = array.compactMap(\.intValue)
        guard !array.isEmpty, lengths.count == array.count else {
            return ["lengths '\(text)' is not a JSON array of integers"]
        }
        guard lengths.count == batch, lengths.max() == length, lengths.allSatisfy({ $0 > 0 }) else {
            return ["lengths \(lengths) do not fit input_ids [\(batch), \(length)]"]
        }
        guard let mask = try? file.int64s("attention_mask") else { return ["attention_mask unreadable"] }
        for (row, real) in lengths.enumerated() {
            let values = mask[(row * length)..<((row + 1) * length)]
            let expected = (0..<length).map { Int64($0 < real ? 1 : 0) }
            if !values.elementsEqual(expected) {
                return ["attention_mask row \(row) is not \(real) ones followed by zeros"]
            }
        }
        return []
    }

    /// Projections are numbered 0..<n in call order, n as declared, each [1, heads, 1, head_dim, hashes].
    static func projectionProblems(file: SafeTensorsFile, declared: String, hiddenSize: Int, attention: String) -> [String] {
        guard let count = Int(declared), count >= 0 else { return ["lsh_projections '\(declared)' is not a count"] }
        var problems: [String] = []
        let names = Set(file.names.filter { $0.hasPrefix(projectionPrefix) })
        let expected = Set((0..<count).map { "\(projectionPrefix)\($0)" })
        if names != expected {
            problems.append("lsh projections \(names.sorted()) do not match lsh_projections = \(count)")
        }
        if count > 0 && attention != "lsg" { problems.append("lsh projections in a '\(attention)' attention case") }
        for name in expected.intersection(names).sorted() {
            let info = file.info(name)!
            let shape = info.shape
            if info.dtype != .f32 || shape.count != 5 || shape[0] != 1 || shape[2] != 1 || shape[1] * shape[3] != hiddenSize
                || shape[4] < 1
            {
                problems.append("tensor '\(name)' is \(info.dtype.rawValue) \(shape), expected F32 [1, heads, 1, head_dim, hashes]")
            }
        }
        return problems
    }
}
