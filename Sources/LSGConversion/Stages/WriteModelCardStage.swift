import Checkpoint
import Foundation
import JSON
import LSGEncoder
import LSGErrors

/// Writes `README.md`, the model card (see `ModelCard`). Runs after the validation stages so the
/// card reports their result, and before `write-manifest` so the manifest hashes the card.
public struct WriteModelCardStage: Stage {
    public static let stageName = "write-model-card"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let target = try context.requireArchitecture()
        let config = try context.requireOutputConfig()
        guard let lsg = config.lsg else {
            throw LSGError(.invalidOption, "stage '\(name)' needs the LSG settings in config.json: run write-config first")
        }
        let autoMapValue = config["auto_map"]?.objectValue?.first { _ in true }?.value.stringValue
        let validationRan = context.recipe.stages.contains { $0.stage == ValidateStage.stageName }
            && context.stageNames.contains(ValidateStage.stageName)
        let card = ModelCard(
            baseModel: context.resolved?.name ?? context.options.source,
            baseModelIsHubName: context.resolved.map { $0.origin != .localDirectory } ?? false,
            baseRevision: context.resolved?.revision,
            family: target.family, architecture: target, maxLength: context.options.maxLength,
            sourcePositions: context.source.map { $0.config.maxPositionEmbeddings - target.family.positionOffset },
            lsg: lsg, modelingCode: autoMapValue.flatMap(LinkModelingCodeStage.Origin.init(autoMapValue:)),
            modelingFileIncluded: context.options.modelingFile != nil,
            toolVersion: context.toolVersion, toolCommit: context.toolCommit,
            blasKernel: BLASLibrary.current.coreName, blasConfig: BLASLibrary.current.configuration, command: try Self.command(for: context), recipe: context.recipe.name,
            warnings: context.report.warnings, validation: context.report.validation,
            validationSkippedBecause: context.isDryRun ? "dry run" : (validationRan ? nil : "the conversion ran without validation stages"),
            modelName: context.outputDirectory.lastPathComponent)
        try context.write(Data(card.markdown.utf8), as: ModelCard.fileName, role: "model card")
        context.report.changes.append("model card: \(ModelCard.fileName)")
    }

    /// The `lsg-convert convert` command line that reproduces this conversion: every option that
    /// differs from the defaults, the source's revision when known, `--out` the output's name.
    public static func command(for context: ConversionContext) throws -> String {
        var words = ["lsg-convert", "convert"]
        let recipe = context.recipe
        if recipe != Recipe.standard(for: nil) && recipe != Recipe.standard(for: recipe.family) {
            words += ["--recipe", recipe.name]
        }
        let values = try context.options.json
        let defaults = try ConversionOptions().json
        for key in ConversionOptions.keys where key != "output" {
            guard let value = values[key], value != .null else { continue }
            if value == defaults[key] && key != "source" && key != "max_length" { continue }
            let flag = key == "source" ? "--from" : "--" + key.replacingOccurrences(of: "_", with: "-")
            switch value {
            case .bool(true): words.append(flag)
            case .bool(false): words.append("--no-" + flag.dropFirst(2))
            case .string(let text): words += [flag, key == "dtype" ? text.lowercased() : text]
            default: words += [flag, value.compactString()]
            }
        }
        if let revision = context.resolved?.revision { words += ["--revision", revision] }
        if recipe.stages.contains(where: { $0.stage == ValidateStage.stageName }),
           !context.stageNames.contains(ValidateStage.stageName) {
            words.append("--no-validate")
        }
        words += ["--out", context.outputDirectory.lastPathComponent]
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// `word` as a POSIX shell word: unchanged when plain, else single-quoted.
    public static func shellQuoted(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./:=@%+,".unicodeScalars.contains($0))
        }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
