import FileIO
import Foundation
import LSGErrors
import SafeTensors

/// Where a model name or path was found.
public struct ResolvedModel: Sendable, Hashable {
    public enum Origin: String, Sendable, Codable {
        case localDirectory = "local directory"
        case huggingFaceCache = "Hugging Face cache"
        case huggingFaceHub = "downloaded from the Hugging Face hub"
    }

    /// What the user asked for.
    public let name: String
    public let directory: URL
    public let origin: Origin
    /// The commit of a cached snapshot.
    public let revision: String?

    public init(name: String, directory: URL, origin: Origin, revision: String?) {
        self.name = name
        self.directory = directory
        self.origin = origin
        self.revision = revision
    }
}

/// Resolves `NAME_OR_DIR`: a local directory first, then the Hugging Face hub cache
/// (`models--org--name/snapshots/<commit>`, the commit read from `refs/<revision>`), or, when a
/// fetcher is set, whatever the fetcher finds or downloads into that cache.
public struct ModelLocator: Sendable {
    public let environment: [String: String]
    public let currentDirectory: URL
    /// A branch, tag or commit hash (default `main`).
    public var revision: String
    /// Consulted instead of the plain cache lookup when set (the `Hub` target downloads).
    public var fetcher: (any ModelFetcher)?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                revision: String = "main", fetcher: (any ModelFetcher)? = nil) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.revision = revision
        self.fetcher = fetcher
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
        if let fetcher { return try fetcher.fetch(name, locator: self) }
        let repository = repositoryDirectory(for: name)
        if let (snapshot, commit) = try cachedSnapshot(of: name) {
            return ResolvedModel(name: name, directory: snapshot, origin: .huggingFaceCache, revision: commit)
        }
        throw LSGError(.missingFile, file: name, "not found: no directory \(local.path) and no snapshot in \(repository.path); "
            + "fetch it first (e.g. `huggingface-cli download \(name)`) or pass a local directory")
    }

    /// The cache folder of a model repository: `<hub cache>/models--org--name`.
    public func repositoryDirectory(for name: String) -> URL {
        hubCache.appendingPathComponent("models--" + name.replacingOccurrences(of: "/", with: "--"))
    }

    /// The cached snapshot of `revision` and its commit: `refs/<revision>` names the commit, or the
    /// revision is itself a commit hash. Nil when the cache has neither.
    public func cachedSnapshot(of name: String) throws -> (directory: URL, commit: String)? {
        let repository = repositoryDirectory(for: name)
        let ref = repository.appendingPathComponent("refs").appendingPathComponent(revision)
        let commit: String
        if revision.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            throw LSGError(.invalidOption, file: revision, "is not a revision name")
        } else if FileManager.default.fileExists(atPath: ref.path) {
            // A ref holds a 40-character commit hash; anything else (a FIFO, a huge file) is refused.
            let data: Data
            data = try RegularFile.contents(of: ref, maxBytes: 4096)
            commit = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.isCommitHash(commit) else { throw LSGError(.malformed, file: ref.path, "does not hold a commit hash") }
        } else if Self.isCommitHash(revision) {
            commit = revision
        } else {
            return nil
        }
        let snapshot = repository.appendingPathComponent("snapshots").appendingPathComponent(commit)
        guard isDirectory(snapshot) else {
            if commit == revision { return nil }
            throw LSGError(.missingFile, file: ref.path, "names commit \(commit) but \(snapshot.path) is missing")
        }
        return (snapshot, commit)
    }

    /// A full git commit hash: 40 lowercase hexadecimal digits.
    public static func isCommitHash(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

extension ModelLocator {
    /// The sha256 of a hub cache file, known without reading it: snapshot files link to
    /// `blobs/<etag>`, and an LFS file's etag is the sha256 of its content (the downloader checks
    /// it, as huggingface_hub does). Nil for any other file, such as a git-stored file, whose
    /// blob is named by its 40-digit git sha1.
    public static func cachedBlobSHA256(of url: URL) -> String? {
        let target = url.resolvingSymlinksInPath()
        let name = target.lastPathComponent
        guard target.deletingLastPathComponent().lastPathComponent == "blobs", name.utf8.count == 64,
              name.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        else { return nil }
        return name
    }
}
