import Foundation

/// Where a model name or path was found.
public struct ResolvedModel: Sendable, Hashable {
    public enum Origin: String, Sendable, Codable {
        case localDirectory = "local directory"
        case huggingFaceCache = "Hugging Face cache"
    }

    /// What the user asked for.
    public let name: String
    public let directory: URL
    public let origin: Origin
    /// The commit of a cached snapshot.
    public let revision: String?
}

/// Resolves `NAME_OR_DIR`: a local directory first, then the Hugging Face hub cache
/// (`models--org--name/snapshots/<commit>`, the commit read from `refs/main`).
public struct ModelLocator: Sendable {
    public let environment: [String: String]
    public let currentDirectory: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
        self.environment = environment
        self.currentDirectory = currentDirectory
    }

    /// The hub cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public var hubCache: URL {
        if let cache = environment["HF_HUB_CACHE"], !cache.isEmpty { return URL(fileURLWithPath: cache) }
        if let home = environment["HF_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent("hub")
        }
        let userHome = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return userHome.appendingPathComponent(".cache/huggingface/hub")
    }

    public func resolve(_ name: String) throws -> ResolvedModel {
        let local = (name.hasPrefix("/") ? URL(fileURLWithPath: name) : currentDirectory.appendingPathComponent(name))
            .standardizedFileURL
        if isDirectory(local) {
            return ResolvedModel(name: name, directory: local, origin: .localDirectory, revision: nil)
        }
        let repository = hubCache.appendingPathComponent("models--" + name.replacingOccurrences(of: "/", with: "--"))
        if let (snapshot, revision) = try cachedSnapshot(in: repository) {
            return ResolvedModel(name: name, directory: snapshot, origin: .huggingFaceCache, revision: revision)
        }
        throw CheckpointError(name, "not found: no directory \(local.path) and no snapshot in \(repository.path); "
            + "downloading is not supported yet, fetch it first (e.g. `huggingface-cli download \(name)`) "
            + "or pass a local directory")
    }

    private func cachedSnapshot(in repository: URL) throws -> (URL, String)? {
        let ref = repository.appendingPathComponent("refs/main")
        guard let text = try? String(contentsOf: ref, encoding: .utf8) else { return nil }
        let commit = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !commit.isEmpty, !commit.contains("/"), commit != ".", commit != ".." else {
            throw CheckpointError(ref.path, "does not hold a commit hash")
        }
        let snapshot = repository.appendingPathComponent("snapshots").appendingPathComponent(commit)
        guard isDirectory(snapshot) else {
            throw CheckpointError(ref.path, "names commit \(commit) but \(snapshot.path) is missing")
        }
        return (snapshot, commit)
    }

    private func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
