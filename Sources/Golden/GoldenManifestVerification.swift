import Checkpoint
import Foundation
import JSON
import SafeTensors
import Zstd

/// What a successful `GoldenManifest.verify(goldenDirectory:)` looked at.
public struct GoldenVerificationSummary: Sendable, Equatable {
    public let filesHashed: Int
    public let compressedFilesChecked: Int
    public let encoderGoldensChecked: Int
    public let conversionCasesChecked: Int
}

extension GoldenManifest {
    /// Decompressed golden files are small; anything larger than this is a corrupt or hostile file.
    static let maxDecompressedBytes = 256 << 20

    /// Re-hashes every listed file, refuses files that are missing or unlisted, and checks that
    /// every `.zst` decompresses, every safetensors file parses, every encoder golden follows
    /// SCHEMA.md and every stored conversion file matches the hash its `case.json` records.
    /// Collects every problem before throwing one `GoldenManifestError`.
    public func verify(goldenDirectory: URL) throws -> GoldenVerificationSummary {
        var problems: [String] = []
        let root = goldenDirectory.standardizedFileURL

        var listed = Set<String>()
        for file in files {
            if !listed.insert(file.path).inserted { problems.append("\(Self.fileName): \(file.path) is listed twice") }
            if let problem = Self.pathProblem(file.path) { problems.append("\(Self.fileName): \(file.path): \(problem)") }
        }
        let present = Set(Self.dataFiles(under: root))
        for path in present.subtracting(listed).sorted() {
            problems.append("\(path): not listed in \(Self.fileName)")
        }

        var hashed = 0
        for file in files where Self.pathProblem(file.path) == nil {
            let url = root.appendingPathComponent(file.path)
            guard present.contains(file.path) else {
                problems.append("\(file.path): listed in \(Self.fileName) but missing")
                continue
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? -1
            if size != file.size { problems.append("\(file.path): size \(size), manifest says \(file.size)") }
            do {
                let digest = try TensorHashing.sha256Hex(fileAt: url)
                if digest != file.sha256 { problems.append("\(file.path): sha256 \(digest), manifest says \(file.sha256)") }
                hashed += 1
            } catch {
                problems.append("\(file.path): \(error)")
            }
        }

        var compressed = 0
        var encoderGoldens = 0
        for path in present.sorted() {
            let url = root.appendingPathComponent(path)
            do {
                if path.hasSuffix(".zst") {
                    let data = try Zstd.decompressFile(at: url, maxOutputBytes: Self.maxDecompressedBytes)
                    compressed += 1
                    problems += try Self.contentProblems(path: path, data: data, root: root)
                    if path.hasPrefix("encoder/") { encoderGoldens += 1 }
                } else if path.hasSuffix(".safetensors") {
                    _ = try SafeTensorsFile(contentsOf: url)
                } else if path.hasSuffix(".json") {
                    _ = try JSONValue.load(contentsOf: url)
                }
            } catch {
                problems.append("\(path): \(error)")
            }
        }

        problems += encoderCaseListProblems(present: present)
        let conversionCases = present.filter { $0.hasPrefix("conversions/") && $0.hasSuffix("/case.json") }.sorted()
        for casePath in conversionCases {
            problems += Self.conversionCaseProblems(casePath: casePath, root: root)
        }

        if !problems.isEmpty { throw GoldenManifestError(problems: problems) }
        return GoldenVerificationSummary(
            filesHashed: hashed, compressedFilesChecked: compressed,
            encoderGoldensChecked: encoderGoldens, conversionCasesChecked: conversionCases.count)
    }

    /// A listed path must be relative, normalised and inside a data directory.
    static func pathProblem(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "not a normalised relative path"
        }
        guard let first = parts.first, dataDirectories.contains(String(first)), parts.count > 1 else {
            return "not inside a data directory (\(dataDirectories.joined(separator: ", ")))"
        }
        return nil
    }

    /// Every regular file under the data directories, as paths relative to `root`.
    static func dataFiles(under root: URL) -> [String] {
        var paths: [String] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for directory in dataDirectories {
            let url = root.appendingPathComponent(directory)
            guard let walker = FileManager.default.enumerator(
                at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [])
            else { continue }
            for case let file as URL in walker {
                guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                let full = file.standardizedFileURL.path
                if full.hasPrefix(prefix) { paths.append(String(full.dropFirst(prefix.count))) }
            }
        }
        return paths.sorted()
    }

    /// Checks the decompressed bytes of one `.zst` file by what they claim to be.
    static func contentProblems(path: String, data: Data, root: URL) throws -> [String] {
        if path.hasSuffix(".safetensors.zst") {
            let file = try SafeTensorsFile(data: data, name: path)
            if path.hasPrefix("encoder/") {
                return EncoderGoldenSchema.problems(in: file, path: path, root: root)
            }
        } else if path.hasSuffix(".json.zst") {
            do {
                _ = try JSONValue.parse(data)
            } catch {
                return ["\(path): decompressed JSON does not parse (\(error))"]
            }
        }
        return []
    }

    /// The manifest's encoder case list and the files under encoder/ must name the same cases.
    func encoderCaseListProblems(present: Set<String>) -> [String] {
        var problems: [String] = []
        var names = Set<String>()
        for entry in encoderCases where !names.insert(entry.name).inserted {
            problems.append("\(Self.fileName): encoder case '\(entry.name)' is listed twice")
        }
        let onDisk = Set(present.filter { $0.hasPrefix("encoder/") })
        let listedCases = Set(encoderCases.map(\.path))
        for path in onDisk.subtracting(listedCases).sorted() {
            problems.append("\(path): no entry in \(Self.fileName) encoder_cases")
        }
        for path in listedCases.subtracting(onDisk).sorted() {
            problems.append("\(path): in \(Self.fileName) encoder_cases but missing")
        }
        for entry in encoderCases where entry.path != "encoder/\(entry.name).safetensors.zst" {
            problems.append("\(entry.path): encoder case '\(entry.name)' should be encoder/\(entry.name).safetensors.zst")
        }
        return problems
    }

    /// Every file `case.json` says is stored must be there and hold exactly the recorded bytes.
    static func conversionCaseProblems(casePath: String, root: URL) -> [String] {
        let description: JSONValue
        do {
            description = try JSONValue.load(contentsOf: root.appendingPathComponent(casePath))
        } catch {
            return ["\(casePath): \(error)"]
        }
        guard let referenceFiles = description["reference_files"]?.objectValue else {
            return ["\(casePath): no reference_files object"]
        }
        var problems: [String] = []
        for (name, info) in referenceFiles {
            guard let stored = info["stored"]?.stringValue else { continue }
            guard let size = info["size"]?.intValue else {
                problems.append("\(casePath): reference file \(name) has no size")
                continue
            }
            let url = root.appendingPathComponent(stored)
            do {
                let bytes = stored.hasSuffix(".zst")
                    ? try Zstd.decompressFile(at: url, maxOutputBytes: maxDecompressedBytes)
                    : try Data(contentsOf: url)
                if bytes.count != size {
                    problems.append("\(stored): \(bytes.count) bytes, \(casePath) records \(size) for \(name)")
                }
                if let expected = info["sha256"]?.stringValue {
                    let digest = bytes.withUnsafeBytes { TensorHashing.sha256Hex($0) }
                    if digest != expected {
                        problems.append("\(stored): sha256 \(digest), \(casePath) records \(expected) for \(name)")
                    }
                }
            } catch {
                problems.append("\(stored): stored copy of \(name) for \(casePath) unreadable (\(error))")
            }
        }
        return problems
    }
}
