import ArgumentParser
import Checkpoint
import Foundation
import JSON
import LSGConversion

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

    @Flag(help: "Re-hash every tensor and file of a converted model directory against its lsg-manifest.json; exit 1 on any difference.")
    var verify = false

    func run() throws {
        let url = URL(fileURLWithPath: path)
        if verify {
            let verification = try WeightManifest.verify(directory: url)
            for problem in verification.problems { print("\(path): \(problem)") }
            print("verified \(verification.checkedTensors) tensors and \(verification.checkedFiles) files: "
                + (verification.isValid ? "OK" : "\(verification.problems.count) difference(s)"))
            if !verification.isValid { throw ExitCode.failure }
            return
        }
        let manifest = try? WeightManifest.load(from: url)
        let inspection = try CheckpointInspection(path: URL(fileURLWithPath: path), checkFinite: checkFinite)
        if json {
            print(inspection.json.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: false))
        } else {
            print(inspection.renderTable { name in
                manifest?.provenance(of: name).map { origin in
                    "\(origin.operation) from \(origin.inputs.isEmpty ? "-" : origin.inputs.joined(separator: ", ")) (\(origin.stage))"
                }
            }, terminator: "")
            if checkFinite { print(inspection.renderFiniteness(), terminator: "") }
        }
        let nonFinite = inspection.nonFiniteTensors
        if !nonFinite.isEmpty {
            FileHandle.standardError.write(Data("\(path): \(nonFinite.count) tensors hold NaN or infinite values\n".utf8))
            throw ExitCode.failure
        }
    }
}
