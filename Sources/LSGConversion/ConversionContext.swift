import Checkpoint
import Foundation
import LSGErrors
import SafeTensors

/// A file of the output directory, planned by a stage.
public struct PlannedFile: Sendable, Hashable {
    public var name: String
    public var byteCount: Int
    /// What the file is, e.g. "LSG config", "tokenizer (copied)", "weights shard 1/2".
    public var role: String

    public init(name: String, byteCount: Int, role: String) {
        self.name = name
        self.byteCount = byteCount
        self.role = role
    }
}

/// Progress of the writing stages, for a progress line.
public struct WriteProgress: Sendable {
    public var tensorsWritten: Int
    public var tensorCount: Int
    public var bytesWritten: Int
    public var byteCount: Int
}

/// The state stages read and change: the source, the output config, the tensor plan, the files
/// to write and the report. One context per conversion; stages run one after the other.
public final class ConversionContext {
    public let options: ConversionOptions
    /// The recipe being run (recorded in the manifest).
    public let recipe: Recipe
    /// Version of the tool, recorded in the manifest.
    public let toolVersion: String
    /// The git commit the tool was built from, when known; recorded with the version.
    public var toolCommit: String?
    /// Where the output is being built; nil for a dry run (nothing is written).
    public let stagingDirectory: URL?
    /// The directory the output will have once complete.
    public let outputDirectory: URL

    // Filled by the stages, in order.
    public var resolved: ResolvedModel?
    public var source: ModelDirectory?
    public var family: ModelFamily?
    public var sourceArchitecture: Architecture?
    public var targetArchitecture: Architecture?
    /// Whether the source already is an LSG model.
    public var sourceIsLSG = false
    /// The `config.json` to write.
    public var outputConfig: ModelConfig?
    /// The output tensors, in `state_dict` order.
    public var tensors = TensorMap()
    /// Files the output will contain, in the order planned.
    public var files: [PlannedFile] = []
    /// Special ids used by the global initialisation.
    public var sequenceStartId: Int?
    public var maskTokenId: Int?
    public var report = ConversionReport()
    /// sha256 of each written tensor's bytes and of each weights file, recorded by
    /// write-checkpoint as they streamed to disk.
    public var writtenTensorDigests: [String: String] = [:]
    public var writtenFileDigests: [String: String] = [:]
    /// sha256 of the source files, computed in the background from write-checkpoint on.
    var sourceFileDigests: FileDigests?
    /// Called while tensors are written.
    public var progress: (@Sendable (WriteProgress) -> Void)?
    /// The stages of the pipeline running over this context, in order.
    public internal(set) var stageNames: [String] = []
    /// The stage running now (stages stamp provenance with it).
    public internal(set) var currentStage = ""

    public init(options: ConversionOptions, recipe: Recipe, toolVersion: String, stagingDirectory: URL?,
                outputDirectory: URL) {
        self.options = options
        self.recipe = recipe
        self.toolVersion = toolVersion
        self.stagingDirectory = stagingDirectory
        self.outputDirectory = outputDirectory
    }

    public var isDryRun: Bool { stagingDirectory == nil }

    /// The source directory, or an error naming the stage that needs it.
    public func requireSource() throws -> ModelDirectory {
        guard let source else { throw LSGError(.invalidOption, "stage '\(currentStage)' needs the source: run resolve-source first") }
        return source
    }

    public func requireArchitecture() throws -> Architecture {
        guard let targetArchitecture else {
            throw LSGError(.invalidOption, "stage '\(currentStage)' needs the architecture: run map-architecture first")
        }
        return targetArchitecture
    }

    public func requireOutputConfig() throws -> ModelConfig {
        guard let outputConfig else { throw LSGError(.invalidOption, "stage '\(currentStage)' needs the config: run read-config first") }
        return outputConfig
    }

    /// Records a planned output file (replacing one of the same name).
    public func plan(_ file: PlannedFile) {
        files.removeAll { $0.name == file.name }
        files.append(file)
    }

    /// Writes `data` as `name` in the staging directory (nothing in a dry run) and plans it.
    public func write(_ data: Data, as name: String, role: String) throws {
        plan(PlannedFile(name: name, byteCount: data.count, role: role))
        guard let stagingDirectory else { return }
        let url = stagingDirectory.appendingPathComponent(name)
        do {
            try data.write(to: url)
        } catch {
            throw LSGError(.io, "\(url.path): cannot write (\(error.localizedDescription))")
        }
    }

    /// Provenance stamped with the current stage.
    public func provenance(_ operation: String, _ inputs: [String], _ detail: String? = nil) -> Provenance {
        Provenance(operation: operation, inputs: inputs, stage: currentStage, detail: detail)
    }
}

/// What a conversion did: stage by stage, the changes and warnings, and the validation result.
public struct ConversionReport: Sendable {
    public struct StageRecord: Sendable {
        public var name: String
        public var seconds: Double
    }

    public var stages: [StageRecord] = []
    /// One line per change worth telling the user ("position table 514 -> 4098 rows, tiled").
    public var changes: [String] = []
    public var warnings: [String] = []
    /// Lines of the validation result.
    public var validation: [String] = []

    public init() {}
}
