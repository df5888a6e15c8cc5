import FileIO
import Foundation
import LSGErrors
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
            throw LSGError(.missingFile, file: url.path, "no such file or directory")
        }
        if isDirectory.boolValue { return try TensorStore(directory: url).files }
        return [try openFile(url)]
    }

    /// One weights file, chosen by its extension (`.zst`, `.bin`/`.pt`/`.pth`, else safetensors).
    public static func openFile(_ url: URL) throws -> SafeTensorsFile {
        switch url.pathExtension {
        case "zst":
            return try openCompressed(url)
        case "bin", "pt", "pth":
            return try PyTorchCheckpointFile(contentsOf: url).safeTensors()
        default:
            return try SafeTensorsFile(contentsOf: url)
        }
    }

    /// A `.safetensors.zst` file, decompressed only as far as both the zstd frame and the
    /// safetensors header declare: the frame must state its content size (at most
    /// `maxDecompressedBytes`), and the header, decompressed first, must describe exactly that
    /// many bytes before the rest is decompressed.
    static func openCompressed(_ url: URL) throws -> SafeTensorsFile {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: url.path, problem) }
        /// A zstd error, which names no file, named after this one.
        func zstd<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let error as LSGError {
                throw LSGError(error.kind, file: url.path, error.description)
            }
        }
        let compressed = try RegularFile.contents(of: url, maxBytes: maxDecompressedBytes)
        let declared = try zstd { try Zstd.declaredContentSize(of: compressed) }
        guard declared <= maxDecompressedBytes else {
            throw fail(.limitExceeded, "the zstd frame declares \(declared) bytes, more than the limit of \(maxDecompressedBytes)")
        }
        let first8 = try zstd { try Zstd.decompressPrefix(compressed, count: min(declared, 8)) }
        if let prefixLength = first8.withUnsafeBytes(SafeTensorsFile.prefixLength(first8:)), prefixLength <= declared {
            let prefix = try zstd { try Zstd.decompressPrefix(compressed, count: prefixLength) }
            let described = try prefix.withUnsafeBytes { try SafeTensorsFile.declaredFileSize(prefix: $0, name: url.path) }
            guard described == declared else {
                throw fail(.malformed, "the zstd frame declares \(declared) bytes but the safetensors header describes \(described)")
            }
        }
        // Otherwise the header length is wrong, which the full validation below reports.
        let data = try zstd { try Zstd.decompress(compressed, maxOutputBytes: declared) }
        guard data.count == declared else {
            throw fail(.malformed, "the zstd frame declares \(declared) bytes but holds \(data.count)")
        }
        return try SafeTensorsFile(data: data, name: url.path)
    }
}
