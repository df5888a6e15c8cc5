import ArgumentParser
import AttentionPlot
import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors

/// `lsg-convert pattern --max-length N [LSG options] --out pattern.svg`: draws which keys each
/// query attends to for a configuration, from the encoder's own attention layout.
struct PatternCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pattern",
        abstract: "Draw the LSG attention pattern of a configuration as an SVG picture.",
        discussion: """
            Rows are queries, columns keys; global, local and sparse attention get their own \
            colours. Settings start from the LSG defaults (or --model's config.json) and the LSG \
            options override them. For norm, lsh, pooling and bos_pooling the sparse colour marks \
            the candidates a sparse token is chosen or pooled from, since the choice depends on the \
            input. Long sequences are drawn in cells of several positions.
            """
    )

    @Option(help: "Sequence length to draw (tokens, without global tokens).")
    var maxLength: Int

    @Option(name: .customLong("out"), help: "SVG file to write.")
    var output: String

    @Option(help: "Start from the LSG settings of this model directory or cached name.")
    var model: String?

    @Option(help: "Attention head to draw (stride and block_stride differ per head).")
    var head: Int = 0

    @Option(help: "Most cells per side; longer sequences are downsampled.")
    var maxCells: Int = AttentionPatternPlot.defaultMaxCells

    @OptionGroup var lsg: LSGOptions

    func validate() throws {
        if maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
        if head < 0 { throw ValidationError("--head must not be negative (got \(head))") }
        if maxCells < 1 { throw ValidationError("--max-cells must be at least 1 (got \(maxCells))") }
    }

    func run() throws {
        var base = LSGConfig()
        if let model {
            let directory = try ModelLocator().resolve(model).directory
            let config = try ModelConfig.load(from: directory.appendingPathComponent("config.json"))
            guard let settings = config.lsg else {
                throw LSGError(.unsupported, file: directory.appendingPathComponent("config.json").path, "not an LSG config (no LSG settings to draw)")
            }
            base = settings.normalized  // as the encoder reads a stored config
        }
        let pattern = try AttentionPattern(lsg: lsg.overrides.applied(to: base), length: maxLength, head: head)
        let svg = AttentionPatternPlot(pattern, maxCells: maxCells).svg()
        let url = URL(fileURLWithPath: output)
        var isDirectory: ObjCBool = false
        let parent = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LSGError(.io, file: url.path, "cannot write: \(parent.path) is not a directory")
        }
        do {
            try Data(svg.utf8).write(to: url, options: .atomic)
        } catch {
            throw LSGError(.io, file: url.path, "cannot write (\(error.localizedDescription))")
        }
    }
}
