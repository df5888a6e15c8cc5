import Foundation
import JSON
import LSGErrors
import SafeTensors

/// One step of a conversion. A stage reads and changes the context; in a dry run
/// (`context.isDryRun`) it plans without writing anything.
public protocol Stage {
    /// The name recipes use (kebab-case, e.g. `extend-positions`).
    var name: String { get }
    func run(_ context: ConversionContext) throws
}

/// Stages by name, each built from its recipe parameters (a JSON object, empty when the
/// recipe gives none). The built-in stages are always there; library users add their own.
/// Safe to use from any thread.
public final class StageRegistry: @unchecked Sendable {
    public typealias Factory = @Sendable (_ parameters: StageParameters) throws -> any Stage

    /// The registry recipes are resolved against by default.
    public static let shared = StageRegistry(builtIns: true)

    private let lock = NSLock()
    private var factories: [String: Factory] = [:]

    public init(builtIns: Bool = true) {
        if builtIns { BuiltInStages.register(in: self) }
    }

    /// Registers (or replaces) the stage called `name`.
    public func register(_ name: String, factory: @escaping Factory) {
        lock.withLock { factories[name] = factory }
    }

    public var names: [String] { lock.withLock { factories.keys.sorted() } }

    /// Builds the stage `name` with `parameters`; relative paths in them are resolved against
    /// `baseDirectory` (the recipe file's directory) when given, else the current directory.
    public func make(_ name: String, parameters: JSONObject = JSONObject(), baseDirectory: URL? = nil) throws -> any Stage {
        guard let factory = lock.withLock({ factories[name] }) else {
            throw LSGError(.invalidOption, "unknown stage '\(name)' (registered: \(names.joined(separator: ", ")))")
        }
        return try factory(StageParameters(stage: name, parameters, baseDirectory: baseDirectory))
    }
}

/// Reads typed stage parameters with one-line errors.
public struct StageParameters {
    public let stage: String
    public let object: JSONObject
    /// Where relative paths point from: the recipe file's directory; nil for the current directory.
    public let baseDirectory: URL?

    public init(stage: String, _ object: JSONObject, baseDirectory: URL? = nil) {
        self.stage = stage
        self.object = object
        self.baseDirectory = baseDirectory
    }

    /// Refuses parameters the stage does not know (a typo would otherwise be ignored).
    public func allow(_ keys: [String]) throws {
        if let unknown = object.keys.first(where: { !keys.contains($0) }) {
            let known = keys.isEmpty ? "none" : keys.joined(separator: ", ")
            throw LSGError(.invalidOption, "stage '\(stage)': unknown parameter '\(unknown)' (known: \(known))")
        }
    }

    public func int(_ key: String) throws -> Int? {
        guard let value = object[key], value != .null else { return nil }
        guard let int = value.intValue else { throw mismatch(key, value, "an integer") }
        return int
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard let bool = value.boolValue else { throw mismatch(key, value, "a boolean") }
        return bool
    }

    public func string(_ key: String) throws -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard let string = value.stringValue else { throw mismatch(key, value, "a string") }
        return string
    }

    public func double(_ key: String) throws -> Double? {
        guard let value = object[key], value != .null else { return nil }
        guard let double = value.doubleValue else { throw mismatch(key, value, "a number") }
        return double
    }

    /// A list of existing file paths (a single string is a list of one), resolved against
    /// `baseDirectory`; a path that names no file is refused before anything runs.
    public func paths(_ key: String) throws -> [URL] {
        guard let value = object[key], value != .null else { return [] }
        let strings: [String]?
        switch value {
        case .string(let path): strings = [path]
        case .array(let items): strings = items.allSatisfy { $0.stringValue != nil } ? items.compactMap(\.stringValue) : nil
        default: strings = nil
        }
        guard let strings else { throw mismatch(key, value, "a path or a list of paths") }
        let base = URL(fileURLWithPath: baseDirectory?.path ?? FileManager.default.currentDirectoryPath, isDirectory: true)
        let urls = strings.map { URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL }
        if let absent = urls.first(where: { !FileManager.default.fileExists(atPath: $0.path) }) {
            let origin = FileManager.default.fileExists(atPath: base.path)
                ? "relative paths start at \(base.standardizedFileURL.path)"
                : "relative paths start at \(base.standardizedFileURL.path), which does not exist: a built-in recipe's files are found from the conversions/ folder of the lsg-convert repository; run from the root of a checkout, or leave validation out with --no-validate"
            throw LSGError(.missingFile, "stage '\(stage)': parameter '\(key)': no file \(absent.path) (\(origin))")
        }
        return urls
    }

    /// One existing file path, resolved like `paths`.
    public func path(_ key: String) throws -> URL? {
        if let value = object[key], value.arrayValue != nil { throw mismatch(key, value, "a path") }
        return try paths(key).first
    }

    private func mismatch(_ key: String, _ value: JSONValue, _ expected: String) -> LSGError {
        LSGError(.invalidOption, "stage '\(stage)': parameter '\(key)' is a JSON \(value.typeName), expected \(expected)")
    }
}
