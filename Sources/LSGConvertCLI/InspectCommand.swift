import ArgumentParser
import Checkpoint
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a .safetensors(.zst) file or a model directory, with sha256 digests."
    )

    @Argument(help: "A .safetensors file, a .safetensors.zst file, or a model directory.")
    var path: String

    @Flag(help: "Print a JSON document instead of the table.")
    var json = false

    @Flag(help: "Count NaN and infinite values in every float tensor; exit 1 when there are any.")
    var checkFinite = false

    func run() throws {
        let inspection = try CheckpointInspection(path: URL(fileURLWithPath: path), checkFinite: checkFinite)
        if json {
            print(inspection.json.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: false))
        } else {
            print(inspection.renderTable(), terminator: "")
            if checkFinite { print(inspection.renderFiniteness(), terminator: "") }
        }
        let nonFinite = inspection.nonFiniteTensors
        if !nonFinite.isEmpty {
            FileHandle.standardError.write(Data("\(path): \(nonFinite.count) tensors hold NaN or infinite values\n".utf8))
            throw ExitCode.failure
        }
    }
}
