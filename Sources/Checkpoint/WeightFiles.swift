import Foundation
import PyTorchCheckpoint
import SafeTensors
import Zstd

/// Opens the weights behind a path: a model directory (through `TensorStore`), a `.safetensors`
/// file, a `.safetensors.zst` file, or a PyTorch `.bin` file. Every format comes back as
/// safetensors files, so callers read one format.
public enum WeightFiles {
    /// Largest compressed weights file decompressed in memory (4 GiB).
    public static let maxDecompressedBytes = 4 << 30

    public static func open(_ url: URL) throws -> [SafeTensorsFile] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CheckpointError(url.path, "no such file or directory")
        }
        if isDirectory.boolValue { return try TensorStore(directory: url).files }
        do {
            switch url.pathExtension {
            case "zst":
                let data = try Zstd.decompressFile(at: url, maxOutputBytes: maxDecompressedBytes)
                return [try SafeTensorsFile(data: data, name: url.path)]
            case "bin", "pt", "pth":
                return [try PyTorchCheckpointFile(contentsOf: url).safeTensors()]
            default:
                return [try SafeTensorsFile(contentsOf: url)]
            }
        } catch let error as SafeTensorsError {
            throw CheckpointError(error.file, error.problem)
        } catch let error as PyTorchCheckpointError {
            throw CheckpointError(error.file, error.problem)
        } catch let error as ZstdError {
            throw CheckpointError(url.path, error.description.replacingOccurrences(of: "\(url.path): ", with: ""))
        }
    }
}
