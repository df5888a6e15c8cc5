import Checkpoint
import Foundation
import LSGErrors

/// A stage that only checks the output; `--no-validate` leaves such stages out.
public protocol ValidatingStage: Stage {}

extension ValidateStage: ValidatingStage {}

/// Runs a recipe safely: options are checked before anything is read; the source is never
/// written; a non-empty output is refused unless forced; the output is built in a temporary
/// sibling directory and renamed into place only when every stage succeeded, and the temporary
/// directory is removed on failure and on SIGINT/SIGTERM; one left by a killed run is removed
/// by the next run into the same output (see `OutputStaging`).
public struct Conversion {
    public var options: ConversionOptions
    public var recipe: Recipe
    public var registry: StageRegistry = .shared
    public var toolVersion: String
    /// The git commit the tool was built from, when known (recorded with the version).
    public var toolCommit: String?
    public var force = false
    public var dryRun = false
    public var validate = true
    public var locator = ModelLocator()
    public var progress: (@Sendable (WriteProgress) -> Void)?

    public init(options: ConversionOptions, recipe: Recipe, toolVersion: String) {
        self.options = options
        self.recipe = recipe
        self.toolVersion = toolVersion
    }

    /// The output directory: `--out`, else `lsg-<name>-<length>` in the current directory.
    public var outputDirectory: URL {
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        if let output = options.output { return URL(fileURLWithPath: output, relativeTo: current).standardizedFileURL }
        return options.defaultOutput(in: current).standardizedFileURL
    }

    /// Runs every stage; returns the finished context (plan, files, report).
    @discardableResult
    public func run() throws -> ConversionContext {
        if let problem = options.problems.first { throw LSGError(.invalidOption, problem) }
        let stages = try recipe.makeStages(registry: registry, validating: validate)
        let pipeline = Pipeline(stages: stages)
        let output = outputDirectory
        let resolved = try locator.resolve(options.source)
        try Self.checkOutput(output, source: resolved.directory, force: force)

        if dryRun {
            let context = makeContext(staging: nil, output: output, resolved: resolved)
            try pipeline.run(context)
            return context
        }

        let parent = output.deletingLastPathComponent()
        let createdParents = try Self.createDirectories(parent)
        let removeParents = { @Sendable in
            for url in createdParents.reversed() { try? FileManager.default.removeItem(at: url) }
        }
        let staleRemoved = OutputStaging.removeStale(for: output)
        let staging: OutputStaging
        do {
            staging = try OutputStaging(output: output)
        } catch {
            removeParents()
            throw error
        }
        let cleanup = SignalCleanup.shared.protect {
            if staging.discard() { removeParents() }
        }
        defer { SignalCleanup.shared.release(cleanup) }
        do {
            let context = makeContext(staging: staging.directory, output: output, resolved: resolved)
            context.report.warnings += staleRemoved
            try pipeline.run(context)
            try staging.commit()
            return context
        } catch {
            staging.discard()
            removeParents()
            throw error
        }
    }

    private func makeContext(staging: URL?, output: URL, resolved: ResolvedModel) -> ConversionContext {
        let context = ConversionContext(options: options, recipe: recipe, toolVersion: toolVersion,
                                        stagingDirectory: staging, outputDirectory: output)
        context.resolved = resolved
        context.toolCommit = toolCommit
        context.progress = progress
        return context
    }

    /// Refuses an output that is, contains or lies inside the source, that is a file, or that
    /// is a non-empty directory (unless `force`).
    static func checkOutput(_ output: URL, source: URL, force: Bool) throws {
        let outputPath = output.resolvingSymlinksInPath().standardizedFileURL.path
        let sourcePath = source.resolvingSymlinksInPath().standardizedFileURL.path
        func isWithin(_ path: String, _ directory: String) -> Bool {
            path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
        }
        if isWithin(outputPath, sourcePath) || isWithin(sourcePath, outputPath) {
            throw LSGError(.invalidOption, "\(output.path): the output must not be, contain or lie inside the source \(source.path)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw LSGError(.invalidOption, "\(output.path): exists and is not a directory") }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        if !contents.isEmpty && !force {
            throw LSGError(.invalidOption, "\(output.path): output directory is not empty (use --force to replace it)")
        }
    }

    /// Creates missing ancestors of `directory`; returns those created, outermost first.
    private static func createDirectories(_ directory: URL) throws -> [URL] {
        var missing: [URL] = []
        var current = directory
        while !FileManager.default.fileExists(atPath: current.path) {
            missing.insert(current, at: 0)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        for url in missing {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
            } catch {
                throw LSGError(.io, "\(url.path): cannot create directory (\(error.localizedDescription))")
            }
        }
        return missing
    }
}
