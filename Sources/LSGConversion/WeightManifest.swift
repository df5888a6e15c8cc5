import Checkpoint
import Foundation
import JSON
import LSGEncoder
import LSGErrors
import SafeTensors

/// `lsg-manifest.json`, written beside the weights: every output tensor (dtype, shape, sha256
/// of its bytes, file, provenance), every other output file (size, sha256), the source's
/// identity (name, revision, sha256 of each file), the tool (version, git commit, the OpenBLAS kernel
/// and configuration), the recipe and every option.
public struct WeightManifest: Sendable {
    public static let fileName = "lsg-manifest.json"
    public static let formatName = "lsg-manifest/1"

    public struct Tensor: Sendable, Hashable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var sha256: String
        public var file: String
        public var provenance: Provenance?
    }

    public struct File: Sendable, Hashable {
        public var name: String
        public var size: Int
        public var sha256: String
    }

    public var toolVersion: String
    public var toolCommit: String?
    public var sourceName: String
    public var sourceRevision: String?
    public var sourceFiles: [File]
    public var tensors: [Tensor]
    public var files: [File]
    /// The whole document, for the parts not typed here (recipe, options, architecture).
    public var json: JSONObject

    /// Reads the manifest of `directory`, or nil when there is none.
    public static func load(from directory: URL) throws -> WeightManifest? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let value = try JSONValue.load(contentsOf: url)
        return try WeightManifest(json: value, name: url.path)
    }

    init(json value: JSONValue, name: String) throws {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, "\(name): \(problem)") }
        guard let object = value.objectValue, object["format"]?.stringValue == Self.formatName else {
            throw fail(.malformed, "not an \(Self.formatName) manifest")
        }
        func files(_ value: JSONValue?) throws -> [File] {
            guard let entries = value?.objectValue else { return [] }
            return try entries.map { key, entry in
                guard let size = entry["size"]?.intValue, let sha256 = entry["sha256"]?.stringValue else {
                    throw fail(.malformed, "file entry '\(key)' lacks size or sha256")
                }
                return File(name: key, size: size, sha256: sha256)
            }
        }
        guard let tensorEntries = object["tensors"]?.objectValue else { throw fail(.malformed, "no \"tensors\" object") }
        tensors = try tensorEntries.map { key, entry in
            guard let dtype = entry["dtype"]?.stringValue, let shape = entry["shape"]?.arrayValue?.compactMap(\.intValue),
                  let sha256 = entry["sha256"]?.stringValue, let file = entry["file"]?.stringValue else {
                throw fail(.malformed, "tensor entry '\(key)' lacks dtype, shape, sha256 or file")
            }
            var provenance: Provenance?
            if let record = entry["provenance"], let operation = record["operation"]?.stringValue {
                provenance = Provenance(operation: operation,
                                        inputs: record["inputs"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                        stage: record["stage"]?.stringValue ?? "",
                                        detail: record["detail"]?.stringValue)
            }
            return Tensor(name: key, dtype: dtype, shape: shape, sha256: sha256, file: file, provenance: provenance)
        }
        self.files = try files(object["files"])
        sourceFiles = try files(object["source"]?["files"])
        sourceName = object["source"]?["name"]?.stringValue ?? ""
        sourceRevision = object["source"]?["revision"]?.stringValue
        toolVersion = object["tool"]?["version"]?.stringValue ?? ""
        toolCommit = object["tool"]?["commit"]?.stringValue
        json = object
    }

    /// The provenance of one tensor.
    public func provenance(of tensor: String) -> Provenance? {
        tensors.first { $0.name == tensor }?.provenance
    }

    // MARK: Writing

    /// Hashes the output in `directory` and builds the manifest document.
    static func document(for context: ConversionContext, directory: URL) throws -> JSONObject {
        let output = try TensorStore(directory: directory)
        let names = output.names
        // Tensors were hashed while write-checkpoint wrote them; any other is hashed now.
        let unhashed = names.filter { context.writtenTensorDigests[$0] == nil }
        var digests = context.writtenTensorDigests
        for (name, sha256) in zip(unhashed, try TensorHashing.sha256Hex(ofEach: unhashed, in: output)) { digests[name] = sha256 }
        let hashes = names.map { digests[$0]! }
        var tensors = JSONObject()
        let planned = Dictionary(uniqueKeysWithValues: context.tensors.tensors.map { ($0.name, $0) })
        for (name, sha256) in zip(names, hashes) {
            guard let info = output.info(name), let file = output.location(of: name)?.file else { continue }
            var entry: JSONObject = [
                "dtype": .string(info.dtype.rawValue), "shape": .array(info.shape.map { .int($0) }),
                "sha256": .string(sha256), "file": .string(URL(fileURLWithPath: file.name).lastPathComponent),
            ]
            if let provenance = planned[name]?.provenance { entry["provenance"] = provenance.json }
            tensors[name] = .object(entry)
        }
        var files = JSONObject()
        for file in context.files where file.name != fileName {
            files[file.name] = try fileEntry(directory.appendingPathComponent(file.name), sha256: context.writtenFileDigests[file.name])
        }
        var source = JSONObject()
        if let resolved = context.resolved, let model = context.source {
            source["name"] = .string(resolved.name)
            source["directory"] = .string(resolved.directory.path)
            source["origin"] = .string(resolved.origin.rawValue)
            source["revision"] = resolved.revision.map(JSONValue.string) ?? .null
            source["architecture"] = context.sourceArchitecture.map { .string($0.className) } ?? .null
            var sourceFiles = JSONObject()
            for name in sourceFileNames(of: model) {
                let url = model.url.appendingPathComponent(name)
                sourceFiles[name] = try fileEntry(url, sha256: context.sourceFileDigests?.digest(of: url))
            }
            source["files"] = .object(sourceFiles)
        }
        return [
            "format": .string(formatName),
            "tool": [
                "name": "lsg-convert", "version": .string(context.toolVersion),
                "commit": context.toolCommit.map(JSONValue.string) ?? .null,
                // The BLAS the validation ran on: its kernel decides the last bits of the encoder's outputs.
                "blas": ["kernel": .string(BLASLibrary.current.coreName), "config": .string(BLASLibrary.current.configuration)],
            ],
            "source": .object(source),
            "architecture": context.targetArchitecture.map { .string($0.lsgClassName) } ?? .null,
            "recipe": context.recipe.json,
            "options": .object(try context.options.json),
            "tensors": .object(tensors),
            "files": .object(files),
        ]
    }

    /// The source files the manifest identifies the source by, relative to its directory.
    static func sourceFileNames(of model: ModelDirectory) -> [String] {
        ["config.json"] + model.tensors.fileNames + model.tokenizer.fileNames
    }

    /// Size and sha256 of a file (`sha256` when already known).
    private static func fileEntry(_ url: URL, sha256: String? = nil) throws -> JSONValue {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return ["size": .int(size), "sha256": .string(try sha256 ?? TensorHashing.sha256Hex(fileAt: url))]
    }

    // MARK: Verifying

    /// What `inspect --verify` found.
    public struct Verification: Sendable {
        public var checkedTensors = 0
        public var checkedFiles = 0
        /// One line per difference, naming the tensor or file.
        public var problems: [String] = []
        public var isValid: Bool { problems.isEmpty }
    }

    /// Re-hashes every tensor and every file of `directory` against its manifest. Throws when
    /// there is no readable manifest; differences are returned, all of them.
    public static func verify(directory: URL) throws -> Verification {
        guard let manifest = try load(from: directory) else {
            throw LSGError(.missingFile, "\(directory.appendingPathComponent(fileName).path): no manifest to verify against")
        }
        var result = Verification()
        var filesOK: Set<String> = []
        for file in manifest.files {
            let url = directory.appendingPathComponent(file.name)
            result.checkedFiles += 1
            guard FileManager.default.fileExists(atPath: url.path) else {
                result.problems.append("file \(file.name): missing")
                continue
            }
            let sha256 = try TensorHashing.sha256Hex(fileAt: url)
            if sha256 != file.sha256 {
                result.problems.append("file \(file.name): sha256 \(sha256.prefix(12))… differs from the manifest's \(file.sha256.prefix(12))…")
            } else {
                filesOK.insert(file.name)
            }
        }
        let store: TensorStore
        do {
            store = try TensorStore(directory: directory)
        } catch {
            result.problems.append("weights: \(error)")
            return result
        }
        let expected = Dictionary(uniqueKeysWithValues: manifest.tensors.map { ($0.name, $0) })
        let present = store.names.filter { expected[$0] != nil }
        let hashes = try TensorHashing.sha256Hex(ofEach: present, in: store)
        for (name, sha256) in zip(present, hashes) {
            let entry = expected[name]!
            let info = store.info(name)!
            result.checkedTensors += 1
            if info.dtype.rawValue != entry.dtype || info.shape != entry.shape {
                result.problems.append("tensor \(name): \(info.dtype.rawValue) \(info.shape), the manifest says \(entry.dtype) \(entry.shape)")
            } else if sha256 != entry.sha256 {
                result.problems.append("tensor \(name): sha256 \(sha256.prefix(12))… differs from the manifest's \(entry.sha256.prefix(12))…")
            }
        }
        for name in manifest.tensors.map(\.name).sorted() where !store.contains(name) {
            result.problems.append("tensor \(name): missing")
        }
        for name in store.names where expected[name] == nil {
            result.problems.append("tensor \(name): not in the manifest")
        }
        return result
    }
}

extension Provenance {
    var json: JSONValue {
        var object: JSONObject = ["operation": .string(operation), "inputs": .array(inputs.map(JSONValue.string)),
                                  "stage": .string(stage)]
        if let detail { object["detail"] = .string(detail) }
        return .object(object)
    }
}
