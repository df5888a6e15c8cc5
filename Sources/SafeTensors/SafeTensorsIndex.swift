import FileIO
import Foundation
import JSON
import LSGErrors

/// `model.safetensors.index.json`: which shard file holds each tensor.
public struct SafeTensorsIndex: Sendable, Hashable {
    public static let defaultFileName = "model.safetensors.index.json"

    /// Path or given name, used in errors.
    public let name: String
    /// Tensor name -> shard file name (a plain file name in the index's directory).
    public let weightMap: [String: String]
    /// `metadata.total_size` when present.
    public let totalSize: Int?
    /// The whole `metadata` object (empty when absent).
    public let metadata: JSONObject

    /// Shard file names, sorted, each once.
    public var shardFiles: [String] { Array(Set(weightMap.values)).sorted() }

    public init(contentsOf url: URL) throws {
        try self.init(data: try RegularFile.contents(of: url, maxBytes: FileLimits.maxJSONFileBytes), name: url.path)
    }

    public init(data: Data, name: String) throws {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: name, problem) }
        self.name = name
        let json = try JSONValue.parseFile(data, name: name)
        guard case .object(let root) = json else { throw fail(.malformed, "is a JSON \(json.typeName), not an object") }
        guard let weightMapValue = root["weight_map"] else { throw fail(.malformed, "has no \"weight_map\"") }
        guard case .object(let entries) = weightMapValue else {
            throw fail(.malformed, "\"weight_map\" is a JSON \(weightMapValue.typeName), not an object")
        }
        var weightMap: [String: String] = [:]
        for (tensor, value) in entries {
            guard case .string(let shard) = value else {
                throw fail(.malformed, "weight_map entry for '\(tensor)' is a JSON \(value.typeName), not a file name")
            }
            guard Self.isPlainFileName(shard) else {
                throw fail(.malformed, "shard name '\(shard)' for tensor '\(tensor)' leaves the model directory")
            }
            weightMap[tensor] = shard
        }
        var metadata = JSONObject()
        var totalSize: Int?
        if let metadataValue = root["metadata"], metadataValue != .null {
            guard case .object(let object) = metadataValue else {
                throw fail(.malformed, "\"metadata\" is a JSON \(metadataValue.typeName), not an object")
            }
            metadata = object
            switch object["total_size"] {
            case nil, .null?: break
            case .int(let size)? where size >= 0: totalSize = size
            // transformers counts BOOL tensors as 1/8 byte per element, which can make this a float.
            case .double(let size)? where size >= 0 && size.rounded() == size && size < 0x1p63: totalSize = Int(size)
            case let other?: throw fail(.malformed, "metadata.total_size \(other.compactString()) is not a non-negative integer")
            }
        }
        self.weightMap = weightMap
        self.totalSize = totalSize
        self.metadata = metadata
    }

    /// True for a name that stays in its directory: not empty, no path separator, not `.` or
    /// `..`, no NUL.
    public static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
            && !name.contains("\0")
    }
}
