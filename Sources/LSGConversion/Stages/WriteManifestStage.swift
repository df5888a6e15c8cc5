import Checkpoint
import Foundation
import JSON
import SafeTensors

/// Writes `lsg-manifest.json` (see `WeightManifest`): hashes every written tensor and file,
/// and every source file. Runs after the stages that write files.
public struct WriteManifestStage: Stage {
    public static let stageName = "write-manifest"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        guard let directory = context.stagingDirectory else {
            context.plan(PlannedFile(name: WeightManifest.fileName, byteCount: 0,
                                     role: "weight manifest: sha256 and provenance of \(context.tensors.count) tensors"))
            return
        }
        let document = try WeightManifest.document(for: context, directory: directory)
        let text = JSONValue.object(document).pythonJSONString(indent: 2, sortKeys: true, ensureASCII: false) + "\n"
        try context.write(Data(text.utf8), as: WeightManifest.fileName, role: "weight manifest")
        context.report.changes.append("manifest: \(WeightManifest.fileName) (sha256 and provenance of \(context.tensors.count) tensors)")
    }
}
