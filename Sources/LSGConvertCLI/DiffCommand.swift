import ArgumentParser
import Checkpoint
import Foundation
import JSON

/// `lsg-convert diff A B`: like diff(1), exits 0 when the weights are identical, 1 when they
/// differ, 2 on trouble (a missing or unreadable file).
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the tensors of two checkpoints (model directories, .safetensors, .safetensors.zst or .bin files).",
        discussion: """
            Lists tensors added, removed, or changed in dtype or shape, and for changed values the \
            number of differing elements and the max absolute difference (floats compared as \
            numbers, integers exactly). Exit status: 0 identical, 1 different, 2 error.
            """
    )

    static let differ = ExitCode(1)
    static let trouble = ExitCode(2)

    @Argument(help: "The first checkpoint: a model directory or a weights file.")
    var a: String

    @Argument(help: "The second checkpoint: a model directory or a weights file.")
    var b: String

    @Flag(help: "Print a JSON document instead of the text report.")
    var json = false

    func run() throws {
        let diff: CheckpointDiff
        do {
            diff = try CheckpointDiff(URL(fileURLWithPath: a), URL(fileURLWithPath: b))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw Self.trouble
        }
        if json {
            print(diff.json.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: false))
        } else {
            print(diff.renderText(), terminator: "")
        }
        if !diff.isIdentical { throw Self.differ }
    }
}
