import Foundation
import LSGErrors
import SafeTensors

/// `golden/MANIFEST.json`: every golden data file with its sha256 and size, and the reference
/// that produced them. The layout is described in `golden/SCHEMA.md`.
public struct GoldenManifest: Codable, Sendable {
    /// One data file, path relative to the golden directory.
    public struct File: Codable, Sendable, Hashable {
        public let path: String
        public let sha256: String
        public let size: Int
        /// The data directory the file lives in (`fixtures`, `conversions`, `models`, `encoder`, `readback`, `zoo`).
        public let kind: String
    }

    public struct Seeds: Codable, Sendable {
        public let baseSeed: Int
        public let rule: String

        enum CodingKeys: String, CodingKey {
            case baseSeed = "base_seed"
            case rule
        }
    }

    public struct Tolerance: Codable, Sendable {
        public let atol: Double
    }

    public struct RandomByNature: Codable, Sendable {
        /// Conversion cases holding tensors the reference draws at random (compared by statistics).
        public let conversions: [String]
        public let rule: String
    }

    /// One encoder golden, as listed by the generator.
    public struct EncoderCase: Codable, Sendable, Hashable {
        public let name: String
        public let family: String
        public let head: String
        public let shape: String
        /// `lsg` or `full` (the original short-context model).
        public let attention: String
        /// `nil` for the original model.
        public let sparsityType: String?
        public let lshProjections: Int
        public let quirk: Bool
        public let path: String

        enum CodingKeys: String, CodingKey {
            case name = "case"
            case family, head, shape, attention
            case sparsityType = "sparsity_type"
            case lshProjections = "lsh_projections"
            case quirk, path
        }
    }

    public struct ConversionCase: Codable, Sendable, Hashable {
        public let name: String
        public let randomByNature: Bool

        enum CodingKeys: String, CodingKey {
            case name = "case"
            case randomByNature = "random_by_nature"
        }
    }

    /// A run of the reference on a checkpoint our converter wrote (`golden/tools/readback.py`).
    public struct ReadbackCase: Codable, Sendable, Hashable {
        public let name: String
        public let family: String
        /// `reference` (the reference's LSG classes) or `auto` (transformers' Auto classes with remote code).
        public let loader: String
        public let head: String
        public let path: String

        enum CodingKeys: String, CodingKey {
            case name = "case"
            case family, loader, head, path
        }
    }

    public let formatVersion: Int
    public let rule: String
    public let command: String
    /// Versions of the reference stack (`lsg-converter`, `transformers`, `torch`, ...).
    public let reference: [String: String]
    public let seeds: Seeds
    public let tolerance: Tolerance
    public let randomByNature: RandomByNature
    public let encoderCases: [EncoderCase]
    public let conversions: [ConversionCase]
    public let readbackCases: [ReadbackCase]
    /// Sorted by path.
    public let files: [File]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case rule, command, reference, seeds, tolerance
        case randomByNature = "random_by_nature"
        case encoderCases = "encoder_cases"
        case conversions, files
        case readbackCases = "readback_cases"
    }

    /// The directories whose every file the manifest lists; nothing outside them is data.
    public static let dataDirectories = ["fixtures", "conversions", "models", "encoder", "readback", "zoo", "tokenizers", "heads", "seq2seq"]
    public static let fileName = "MANIFEST.json"
    public static let supportedFormatVersion = 1

    /// Reads `MANIFEST.json` from a golden directory.
    public static func load(goldenDirectory: URL) throws -> GoldenManifest {
        let url = goldenDirectory.appendingPathComponent(fileName)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw GoldenManifestError(problems: ["\(url.path): cannot read (\(error.localizedDescription))"])
        }
        let manifest: GoldenManifest
        do {
            manifest = try JSONDecoder().decode(GoldenManifest.self, from: data)
        } catch {
            throw GoldenManifestError(problems: ["\(url.path): not a golden manifest (\(error))"])
        }
        guard manifest.formatVersion == supportedFormatVersion else {
            throw GoldenManifestError(problems: [
                "\(url.path): format_version \(manifest.formatVersion) is not supported (expected \(supportedFormatVersion))",
            ])
        }
        return manifest
    }
}

/// Every problem found while checking a golden directory, one line each ("<path>: <problem>").
public struct GoldenManifestError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]

    public init(problems: [String]) {
        self.problems = problems.map(\.foldedToOneLine)
    }

    public var description: String {
        problems.count == 1 ? problems[0] : "\(problems.count) golden problems:\n" + problems.joined(separator: "\n")
    }
}
