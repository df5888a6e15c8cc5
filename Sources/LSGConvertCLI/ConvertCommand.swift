import ArgumentParser
import Checkpoint
import Foundation
import Hub
import JSON
import LSGConversion
import LSGErrors
import SafeTensors

/// `lsg-convert [convert] --from NAME_OR_DIR --max-length N`: parses options and runs a recipe
/// through `LSGConversion.Conversion`. Options left out fall back to the recipe, then to the
/// reference converter's defaults.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint of one of the supported families (\(ModelFamily.allCases.map(\.facts.modelCard.name).joined(separator: ", "))) into an LSG long-context checkpoint.",
        discussion: """
            Runs the stages of a recipe (default: the standard conversion; see conversions/): resolve \
            the source, check its config, map the architecture, tile the position table, add the \
            global-token table, write config.json, the tokenizer files, the weights, \
            lsg-manifest.json, then validate. The output is built beside --out and moved into \
            place only when every stage succeeded.
            """
    )

    @Option(name: .customLong("from"), help: "Model directory, or a Hugging Face model name: taken from the hub cache, else downloaded from HF_ENDPOINT (may come from --recipe).")
    var source: String?

    @Option(help: "Hub revision of a model name: branch, tag or commit hash (default main).")
    var revision: String?

    @Option(help: "New maximum sequence length (default 4096).")
    var maxLength: Int?

    @Option(name: .customLong("out"), help: "Output directory (default ./lsg-<name>-<max-length>).")
    var output: String?

    @OptionGroup var lsg: LSGOptions

    @Option(help: "Stride between the positions the global rows start from (default 64).")
    var globalStride: Int?

    @Flag(help: "Sample global rows from a normal fitted to the word embeddings.")
    var randomGlobalInit = false

    @Option(help: "Seed of every random draw (default 123).")
    var seed: Int?

    @Flag(help: "LSG source: keep its first global row.")
    var keepFirstGlobalToken = false

    @Flag(name: .customLong("resize-lsg"), help: "LSG source: only resize the position table.")
    var resizeLSG = false

    @Flag(help: "Convert even when the tensors the new rows are computed from hold NaN or infinity.")
    var allowNonFinite = false

    @Option(help: "Architecture to convert to, e.g. CamembertForMaskedLM (default: config.json's).")
    var architecture: String?

    @Option(help: "Recipe: a JSON file, a name under ./conversions/, a recipe built into the binary (e.g. camembert-base-4096), or a family name.")
    var recipe: String?

    @Option(help: "Output dtype: f32, f16 or bf16 (default: f32, as the reference: transformers loads any checkpoint into a float32 model).")
    var dtype: String?

    @Option(help: "Write shards of at most this size, e.g. 2GB, 500MB, 200KB.")
    var maxShardSize: String?

    @Option(help: "Copy this modeling file (e.g. modeling_lsg_camembert.py) into the output and point auto_map at it (default: the family's LSG code on the hub).")
    var modelingFile: String?

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Flag(help: "Print the plan (stages, tensors, files and sizes) without writing anything.")
    var dryRun = false

    @Flag(name: .customLong("no-validate"), help: "Skip the validation stages.")
    var skipValidation = false

    /// The settings given on the command line, as option JSON (keys of `ConversionOptions`).
    func overrides() throws -> JSONObject {
        var object = JSONObject()
        func set(_ key: String, _ value: Int?) { if let value { object[key] = .int(value) } }
        func set(_ key: String, _ value: Bool?) { if let value { object[key] = .bool(value) } }
        func set(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        set("source", source)
        set("max_length", maxLength)
        set("output", output)
        for (key, value) in lsg.overrides.json { object[key] = value }
        set("global_stride", globalStride)
        set("random_global_init", randomGlobalInit ? true : nil)
        set("seed", seed)
        set("keep_first_global_token", keepFirstGlobalToken ? true : nil)
        set("resize_lsg", resizeLSG ? true : nil)
        set("allow_non_finite", allowNonFinite ? true : nil)
        set("architecture", architecture)
        set("modeling_file", modelingFile)
        if let dtype {
            guard let parsed = Self.dtype(named: dtype) else {
                throw LSGError(.invalidOption, "unknown dtype '\(dtype)' (f32, f16 or bf16)")
            }
            object["dtype"] = .string(parsed.rawValue)
        }
        if let maxShardSize {
            guard let bytes = ConversionOptions.parseSize(maxShardSize) else {
                throw LSGError(.invalidOption, "--max-shard-size '\(maxShardSize)' is not a size like 2GB, 500MB or 1048576")
            }
            object["max_shard_size"] = .int(bytes)
        }
        return object
    }

    static func dtype(named name: String) -> DType? {
        switch name.lowercased() {
        case "f32", "float32", "float": return .f32
        case "f16", "float16", "half": return .f16
        case "bf16", "bfloat16": return .bf16
        default: return nil
        }
    }

    /// Option problems, found before any file is read.
    func validate() throws {
        if let seed, seed < 0 { throw LSGError(.invalidOption, "--seed must not be negative (got \(seed))") }
        if let revision, revision.isEmpty { throw LSGError(.invalidOption, "--revision must not be empty") }
        let options = try ConversionOptions(json: try overrides())
        // With --recipe the source may come from the recipe, read later.
        if let problem = options.problems(requiringSource: recipe == nil).first { throw LSGError(.invalidOption, problem) }
    }

    func run() throws {
        let currentDirectory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let recipe = try Recipe.resolve(self.recipe, in: currentDirectory)
        var conversion = Conversion(options: try ConversionOptions.merged(recipe: recipe, overrides: try overrides()),
                                    recipe: recipe, toolVersion: LSGConvertVersion.current)
        conversion.toolCommit = LSGConvertVersion.commit
        conversion.force = force
        conversion.dryRun = dryRun
        conversion.validate = !skipValidation
        conversion.locator = ModelLocator(revision: revision ?? "main", fetcher: HubDownloader())
        let progress = ProgressLine()
        conversion.progress = { progress.show($0) }
        let context = try conversion.run()
        progress.finish()
        if dryRun {
            print(context.renderPlan())
        } else {
            print(context.renderSummary())
        }
    }
}

/// The "tensors and bytes written" line on stderr: redrawn in place on a terminal, printed once
/// when writing ends otherwise.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var last: WriteProgress?
    private var lastDraw = Date.distantPast

    func show(_ progress: WriteProgress) {
        lock.withLock {
            last = progress
            guard isTerminal, progress.tensorsWritten == progress.tensorCount || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            FileHandle.standardError.write(Data(("\r" + Self.line(progress)).utf8))
        }
    }

    func finish() {
        lock.withLock {
            guard let last else { return }
            FileHandle.standardError.write(Data(((isTerminal ? "\r" : "") + Self.line(last) + "\n").utf8))
        }
    }

    static func line(_ progress: WriteProgress) -> String {
        "writing tensors \(progress.tensorsWritten)/\(progress.tensorCount), "
            + "\(ConversionContext.format(bytes: progress.bytesWritten)) / \(ConversionContext.format(bytes: progress.byteCount))"
    }
}
