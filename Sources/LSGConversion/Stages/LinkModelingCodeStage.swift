import Checkpoint
import FileIO
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// Makes `auto_map` in `config.json` load out of the box with `trust_remote_code=True`.
///
/// The reference's `save_pretrained` copies its own `modeling_lsg_<family>.py` next to the
/// weights; we do not ship that code, so by default every `auto_map` entry names the same module
/// in a public hub repository that holds it (`<repo>--modeling_lsg_camembert.LSGCamembertForMaskedLM`,
/// fetched by transformers on first load). With the `modeling_file` option the given file is
/// copied into the output instead and `auto_map` names its module, as the reference's output does.
/// For a family no known hub repository carries (DistilBERT, ELECTRA) and no `modeling_file`,
/// `auto_map` keeps the reference's local module names and a warning says the file is needed.
/// Runs after `write-config` and rewrites `config.json`.
public struct LinkModelingCodeStage: Stage {
    public static let stageName = "link-modeling-code"
    public var name: String { Self.stageName }

    /// Hub repository whose modeling file the default `auto_map` names; nil takes the family's.
    public var repository: String?

    public init(repository: String? = nil) {
        self.repository = repository
    }

    /// Published LSG conversions by the reference's author that carry each family's modeling
    /// file (`ModelFamily.lsgModule`), for transformers >= 4.36; nil when we know of none
    /// (ELECTRA).
    public static func defaultRepository(for family: ModelFamily) -> String? { family.facts.lsgCodeRepository }

    /// Where `auto_map` points, as the model card describes it.
    public enum Origin: Sendable, Hashable {
        case hub(repository: String, module: String)
        case localFile(module: String)

        /// Reads it back from an `auto_map` value (`repo--module.Class` or `module.Class`).
        public init?(autoMapValue value: String) {
            let parts = value.components(separatedBy: "--")
            guard let reference = parts.last, let dot = reference.lastIndex(of: ".") else { return nil }
            let module = String(reference[..<dot])
            switch parts.count {
            case 1: self = .localFile(module: module)
            case 2: self = .hub(repository: parts[0], module: module)
            default: return nil
            }
        }
    }

    public func run(_ context: ConversionContext) throws {
        let target = try context.requireArchitecture()
        var config = try context.requireOutputConfig()
        guard let entries = config["auto_map"]?.objectValue, !entries.isEmpty else {
            throw LSGError(.invalidOption, "stage '\(name)' needs auto_map in config.json: run write-config first")
        }
        let prefix: String
        var classes: [String] = []
        for (_, value) in entries {
            guard let reference = value.stringValue, reference.contains("."), let className = reference.split(separator: ".").last else {
                throw LSGError(.malformed, "config.json auto_map entry \(value) is not a 'module.Class' string")
            }
            classes.append(String(className))
        }
        if let path = context.options.modelingFile {
            let file = try Self.checkedModelingFile(path)
            let text = try Self.read(file)
            if let missing = classes.first(where: { !Self.defines(text, className: $0) }) {
                throw LSGError(.malformed, "\(file.path): defines no class \(missing), which auto_map needs for \(target.lsgClassName)")
            }
            try context.write(Data(text.utf8), as: file.lastPathComponent, role: "modeling code (copied, named by auto_map)")
            prefix = file.deletingPathExtension().lastPathComponent
            context.report.changes.append("auto_map: local module \(prefix) (\(file.lastPathComponent) copied into the output)")
        } else if let repository = self.repository ?? Self.defaultRepository(for: target.family) {
            prefix = "\(repository)--\(target.family.lsgModule)"
            context.report.changes.append("auto_map: \(target.family.lsgModule) from the hub repository \(repository)")
        } else {
            // As the reference writes it: the module is expected beside config.json.
            prefix = target.family.lsgModule
            context.report.warnings.append("auto_map names the local module \(prefix), but no public hub repository is known to hold \(prefix).py: put the reference's file beside config.json (or convert with --modeling-file) before loading with trust_remote_code=True")
        }
        config["auto_map"] = .object(JSONObject(zip(entries.keys, classes).map { ($0, .string("\(prefix).\($1)")) }))
        context.outputConfig = config
        try context.write(WriteConfigStage.serialize(config), as: "config.json", role: "LSG config")
    }

    /// The `--modeling-file` path, refused unless it names an existing `.py` file whose name is
    /// a Python module name (transformers imports it by that name).
    public static func checkedModelingFile(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        let module = url.deletingPathExtension().lastPathComponent
        guard url.pathExtension == "py", isModuleName(module) else {
            throw LSGError(.invalidOption, "\(path): a modeling file must be named <python module>.py, like modeling_lsg_camembert.py")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw LSGError(.missingFile, "\(path): modeling file not found")
        }
        return url
    }

    static func isModuleName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
    }

    private static func read(_ url: URL) throws -> String {
        try RegularFile.text(of: url, maxBytes: CheckpointLimits.maxConfigBytes)
    }

    /// Whether `source` has a top-level `class Name:` or `class Name(...)`.
    static func defines(_ source: String, className: String) -> Bool {
        source.split(separator: "\n").contains { line in
            line.hasPrefix("class \(className)(") || line.hasPrefix("class \(className):")
        }
    }
}
