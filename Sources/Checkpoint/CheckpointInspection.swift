import Foundation
import JSON
import LSGErrors
import SafeTensors

/// What `inspect` reports about a weights file or a model directory: every tensor with its
/// dtype, shape, size and the sha256 of its raw bytes, plus totals.
public struct CheckpointInspection: Sendable {
    public struct Tensor: Sendable, Hashable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: Int
        public let sha256: String
        /// The weights file holding it, relative to the inspected directory (or the file's name).
        public let file: String
        /// NaN and infinity counts of a float tensor, when asked for (`checkFinite`).
        public let nonFinite: NonFiniteCount?

        public var parameters: Int { shape.reduce(1, *) }
    }

    /// The inspected weight files, relative to the inspected directory.
    public let files: [String]
    /// Tensors in file order, each file in data-offset order.
    public let tensors: [Tensor]
    /// `__metadata__` of the (first) weights file.
    public let metadata: [String: String]?
    /// `config.json`, when the path is a model directory that has one.
    public let config: ModelConfig?

    public var totalParameters: Int { tensors.reduce(0) { $0 + $1.parameters } }
    public var totalBytes: Int { tensors.reduce(0) { $0 + $1.bytes } }

    /// Inspects a `.safetensors` file, a `.safetensors.zst` file, a PyTorch `.bin` file, or a model directory;
    /// `checkFinite` also counts the NaN and infinite values of every float tensor.
    public init(path: URL, checkFinite: Bool = false) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw LSGError(.missingFile, file: path.path, "no such file or directory")
        }
        if isDirectory.boolValue {
            let store = try TensorStore(directory: path)
            let configURL = path.appendingPathComponent("config.json")
            config = FileManager.default.fileExists(atPath: configURL.path) ? try ModelConfig.load(from: configURL) : nil
            files = store.fileNames
            metadata = store.files.first?.metadata
            tensors = try Self.describe(store.files, checkFinite: checkFinite) { URL(fileURLWithPath: $0.name).lastPathComponent }
        } else {
            let file = try WeightFiles.openFile(path)
            config = nil
            files = [path.lastPathComponent]
            metadata = file.metadata
            tensors = try Self.describe([file], checkFinite: checkFinite) { _ in path.lastPathComponent }
        }
    }

    private static func describe(_ files: [SafeTensorsFile], checkFinite: Bool,
                                 fileName: (SafeTensorsFile) -> String) throws -> [Tensor] {
        let entries = files.flatMap { file in file.tensors.map { (file: file, info: $0) } }
        let digests = try TensorHashing.sha256Hex(ofEach: entries.map { ($0.file, $0.info.name) })
        let counts = checkFinite ? try NonFiniteCount.counts(ofEach: entries.map { ($0.file, $0.info.name) })
                                 : Array(repeating: nil, count: entries.count)
        return entries.indices.map { index in
            let entry = entries[index]
            return Tensor(name: entry.info.name, dtype: entry.info.dtype, shape: entry.info.shape,
                          bytes: entry.info.byteCount, sha256: digests[index], file: fileName(entry.file),
                          nonFinite: counts[index])
        }
    }

    /// The tensors holding NaN or infinite values (empty unless inspected with `checkFinite`).
    public var nonFiniteTensors: [Tensor] { tensors.filter { !($0.nonFinite?.isFinite ?? true) } }

    /// The `--check-finite` lines: one per tensor holding NaN or infinity, then a total.
    public func renderFiniteness() -> String {
        let checked = tensors.filter { $0.nonFinite != nil }.count
        var lines = nonFiniteTensors.map { "non-finite: \($0.name) (\($0.file)): \($0.nonFinite!.summary)" }
        lines.append(lines.isEmpty ? "finite: all \(checked) float tensors"
                                   : "\(lines.count) of \(checked) float tensors hold NaN or infinite values")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `--json` document: `{"files", "tensors", "total_parameters", "total_bytes", "metadata"}`.
    public var json: JSONValue {
        let tensorValues: [JSONValue] = tensors.map { tensor in
            var object: JSONObject = [
                "name": .string(tensor.name),
                "dtype": .string(tensor.dtype.rawValue),
                "shape": .array(tensor.shape.map(JSONValue.int)),
                "bytes": .int(tensor.bytes),
                "sha256": .string(tensor.sha256),
                "file": .string(tensor.file),
            ]
            if let nonFinite = tensor.nonFinite {
                object["nan"] = .int(nonFinite.nan)
                object["inf"] = .int(nonFinite.infinity)
            }
            return .object(object)
        }
        let metadataValue: JSONValue = metadata.map { values in
            .object(JSONObject(values.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        } ?? .null
        return .object([
            "files": .array(files.map(JSONValue.string)),
            "tensors": .array(tensorValues),
            "total_parameters": .int(totalParameters),
            "total_bytes": .int(totalBytes),
            "metadata": metadataValue,
        ])
    }
}
