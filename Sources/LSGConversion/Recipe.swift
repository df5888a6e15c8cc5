import Checkpoint
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// A conversion as data: the stages to run, in order, with their parameters, and option
/// defaults (which command-line flags override). Stored as JSON under `conversions/`.
public struct Recipe: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var stage: String
        public var parameters: JSONObject?

        public init(_ stage: String, parameters: JSONObject? = nil) {
            self.stage = stage
            self.parameters = parameters
        }
    }

    public var name: String
    public var description: String
    /// The family the recipe is written for; nil for any.
    public var family: ModelFamily?
    public var stages: [Step]
    /// Option defaults (keys of `ConversionOptions`, snake_case).
    public var options: JSONObject
    /// The directory of the recipe file, which relative paths in stage parameters start from;
    /// nil for a recipe not read from a file (the current directory).
    public var baseDirectory: URL?

    public init(name: String, description: String, family: ModelFamily?, stages: [Step], options: JSONObject = [:]) {
        self.name = name
        self.description = description
        self.family = family
        self.stages = stages
        self.options = options
    }

    /// The stages of a standard conversion, in order. The model card follows the validation it
    /// reports; the manifest comes last so it hashes every file, the card included.
    public static let standardStages: [Step] = [
        "resolve-source", "read-config", "map-architecture", "extend-positions", "add-global-embeddings",
        "check-finite", "write-config", "link-modeling-code", "copy-tokenizer", "write-checkpoint", "validate",
        "validate-encoder", "write-model-card", "write-manifest",
    ].map { Step($0) }

    /// The standard recipe of a family (the content of `conversions/<family>.json`), or for any
    /// supported family (nil: the default when no recipe is named).
    public static func standard(for family: ModelFamily?) -> Recipe {
        guard let family else {
            return Recipe(name: "standard", description: "Convert any supported encoder checkpoint to LSG.",
                          family: nil, stages: standardStages)
        }
        let offset = family.positionOffset == 0 ? "no offset rows" : "\(family.positionOffset) offset rows kept"
        let positions = switch family.facts.encoderDecoder?.positions {
        case nil: "tile positions (\(offset))"
        case .learned?: "tile the encoder's and decoder's positions (\(offset))"
        case .sinusoidal?: "compute the encoder's and decoder's sinusoidal positions for the new length"
        }
        let name = family.facts.modelCard.name
        let article = "AEIOU".contains(name.prefix(1)) ? "an" : "a"
        return Recipe(
            name: family.rawValue,
            description: "Convert \(article) \(name) checkpoint to LSG: \(positions), add 512 global rows, write the LSG config.",
            family: family, stages: standardStages)
    }

    /// `--recipe`: a JSON file, else `conversions/<name>.json` under `directory`, else a recipe
    /// built into the binary (`BuiltInRecipes`, the repository's `conversions/`), else a family
    /// name; nil gives the standard recipe for any family.
    public static func resolve(_ nameOrPath: String?, in directory: URL) throws -> Recipe {
        guard let nameOrPath else { return standard(for: nil) }
        let manager = FileManager.default
        let path = nameOrPath.hasPrefix("/") ? URL(fileURLWithPath: nameOrPath) : directory.appendingPathComponent(nameOrPath)
        if manager.fileExists(atPath: path.path) { return try load(from: path) }
        let folder = directory.appendingPathComponent("conversions")
        let named = folder.appendingPathComponent("\(nameOrPath).json")
        if manager.fileExists(atPath: named.path) { return try load(from: named) }
        if let text = BuiltInRecipes.json[nameOrPath] {
            do {
                var recipe = try Recipe(json: try JSONValue.parse(text))
                // Paths in its parameters are relative to where its file is in the repository.
                recipe.baseDirectory = folder
                return recipe
            } catch {
                throw LSGError((error as? LSGError)?.kind ?? .malformed, "built-in recipe '\(nameOrPath)': \(error)")
            }
        }
        if let family = ModelFamily(rawValue: nameOrPath) { return standard(for: family) }
        let known = BuiltInRecipes.json.keys.sorted().joined(separator: ", ")
        throw LSGError(.missingFile, "recipe '\(nameOrPath)' not found: no file \(path.path), no \(named.path), not a built-in recipe (\(known)) and not a family name (\(ModelFamily.allCases.map(\.rawValue).joined(separator: ", ")))")
    }

    public static func load(from url: URL) throws -> Recipe {
        let value = try JSONValue.load(contentsOf: url, maxBytes: CheckpointLimits.maxConfigBytes)
        do {
            var recipe = try Recipe(json: value)
            recipe.baseDirectory = url.deletingLastPathComponent()
            return recipe
        } catch let error as LSGError {
            throw LSGError(error.kind, "\(url.path): \(error.description)")
        }
    }

    /// A recipe from its JSON form; unknown keys, stages without a name and bad options are refused.
    public init(json value: JSONValue) throws {
        guard let object = value.objectValue else { throw LSGError(.malformed, "a recipe is a JSON object, not a \(value.typeName)") }
        let known = ["name", "description", "family", "stages", "options"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw LSGError(.invalidOption, "unknown recipe key '\(unknown)' (known: \(known.joined(separator: ", ")))")
        }
        guard let name = object["name"]?.stringValue else { throw LSGError(.malformed, "recipe has no \"name\" string") }
        self.name = name
        description = object["description"]?.stringValue ?? ""
        switch object["family"] {
        case nil, .null?: family = nil
        case .string(let raw)?:
            guard let family = ModelFamily(rawValue: raw) else {
                throw LSGError(.invalidOption, "unknown family '\(raw)' (one of \(ModelFamily.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self.family = family
        case let other?: throw LSGError(.malformed, "\"family\" is a JSON \(other.typeName), expected a string")
        }
        guard let steps = object["stages"]?.arrayValue, !steps.isEmpty else {
            throw LSGError(.malformed, "recipe has no \"stages\" list")
        }
        stages = try steps.enumerated().map { index, step in
            if let stage = step.stringValue { return Step(stage) }
            guard let stage = step["stage"]?.stringValue else {
                throw LSGError(.malformed, "stage \(index + 1) has no \"stage\" name")
            }
            if let unknown = step.objectValue?.keys.first(where: { $0 != "stage" && $0 != "parameters" }) {
                throw LSGError(.invalidOption, "stage '\(stage)': unknown key '\(unknown)' (known: stage, parameters)")
            }
            switch step["parameters"] {
            case nil, .null?: return Step(stage)
            case .object(let parameters)?: return Step(stage, parameters: parameters)
            case let other?: throw LSGError(.malformed, "stage '\(stage)': \"parameters\" is a JSON \(other.typeName), expected an object")
            }
        }
        switch object["options"] {
        case nil, .null?: options = [:]
        case .object(let options)?: self.options = options
        case let other?: throw LSGError(.malformed, "\"options\" is a JSON \(other.typeName), expected an object")
        }
        _ = try ConversionOptions(json: options)
    }

    /// The recipe's JSON form.
    public var json: JSONValue {
        var object: JSONObject = ["name": .string(name), "description": .string(description)]
        object["family"] = family.map { .string($0.rawValue) } ?? .null
        object["stages"] = .array(stages.map { step in
            var entry: JSONObject = ["stage": .string(step.stage)]
            if let parameters = step.parameters { entry["parameters"] = .object(parameters) }
            return .object(entry)
        })
        object["options"] = .object(options)
        return .object(object)
    }

    /// The recipe as written under `conversions/` (indent 2, sorted keys, trailing newline).
    public func jsonData() -> Data {
        Data((json.pythonJSONString(indent: 2, sortKeys: true, ensureASCII: false) + "\n").utf8)
    }

    /// Builds the stages from `registry`.
    /// Without `validating`, validating stages are left out before their parameters are read,
    /// so the golden files a built-in recipe names need not exist outside the repository.
    public func makeStages(registry: StageRegistry = .shared, validating: Bool = true) throws -> [any Stage] {
        try stages.compactMap { step in
            if !validating, (try? registry.make(step.stage)) is any ValidatingStage { return nil }
            return try registry.make(step.stage, parameters: step.parameters ?? [:], baseDirectory: baseDirectory)
        }
    }
}
