import Checkpoint
import FileIO
import Foundation
import JSON
import LSGErrors
import SafeTensors

/// Downloads the files a conversion needs from the Hugging Face hub into the standard cache,
/// following huggingface_hub's protocol: `GET /api/models/{repo}/revision/{revision}` for the
/// commit and file list, `HEAD /{repo}/resolve/{commit}/{file}` (relative redirects followed)
/// for `X-Linked-Etag`/`ETag`, `X-Linked-Size`/`Content-Length` and the download location, then
/// a GET into `blobs/<etag>.incomplete` (resumed with a Range request), checked (size; sha256
/// for LFS files, whose etag is their sha256), renamed to `blobs/<etag>` and linked from
/// `snapshots/<commit>/<file>`; `refs/<revision>` records the commit.
///
/// A snapshot that already has every needed file is used without any request; with
/// `HF_HUB_OFFLINE` nothing is requested and a missing file is an error naming it.
public struct HubDownloader: ModelFetcher {
    private let configured: Result<HubSettings, LSGError>
    public let progress: DownloadProgress

    public init(settings: HubSettings, progress: DownloadProgress = .standardError()) {
        configured = .success(settings)
        self.progress = progress
    }

    /// Settings from the environment; a bad `HF_ENDPOINT` is reported only when the hub is needed,
    /// so converting a local directory never fails on it.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                progress: DownloadProgress = .standardError()) {
        do {
            configured = .success(try HubSettings(environment: environment))
        } catch {
            configured = .failure(error as? LSGError ?? LSGError(.invalidOption, file: "environment", "\(error)"))
        }
        self.progress = progress
    }

    public func fetch(_ name: String, locator: ModelLocator) throws -> ResolvedModel {
        try Fetch(settings: configured.get(), progress: progress).fetch(name, locator: locator)
    }
}

/// One fetch with settled settings.
private struct Fetch {
    let settings: HubSettings
    let progress: DownloadProgress

    func fetch(_ name: String, locator: ModelLocator) throws -> ResolvedModel {
        let revision = locator.revision
        guard HubNames.isRepositoryId(name) else {
            throw LSGError(.missingFile, file: name, "not found: no such directory, and not a Hugging Face model name (org/name)")
        }
        guard HubNames.isRelativePath(revision) else {
            throw LSGError(.invalidOption, file: revision, "is not a revision name (branch, tag or commit hash)")
        }
        let layout = HubCacheLayout(repository: locator.repositoryDirectory(for: name))
        let cached: (directory: URL, commit: String)?
        do {
            cached = try locator.cachedSnapshot(of: name)
        } catch {
            if settings.offline { throw error }
            cached = nil
        }
        if let cached {
            let missing = ConversionFiles.firstMissing(in: cached.directory, isRecordedAbsent: {
                FileManager.default.fileExists(atPath: layout.noExist(cached.commit, $0).path)
            }, strict: !settings.offline)
            guard let missing else {
                return ResolvedModel(name: name, directory: cached.directory, origin: .huggingFaceCache, revision: cached.commit)
            }
            if settings.offline {
                throw LSGError(.missingFile, file: name, "HF_HUB_OFFLINE is set and the cache lacks \(missing) at revision \(revision) "
                    + "(snapshot \(cached.directory.path)); unset HF_HUB_OFFLINE to download it")
            }
        } else if settings.offline {
            throw LSGError(.missingFile, file: name, "not found: no local directory, and HF_HUB_OFFLINE is set while the cache lacks "
                + "\(ConversionFiles.config) and the weights at revision \(revision) (no \(layout.ref(revision).path)); "
                + "unset HF_HUB_OFFLINE to download them")
        }
        return try download(name, revision: revision, layout: layout)
    }

    private var client: HTTPClient {
        HTTPClient(token: settings.token, tokenAuthority: HTTPClient.authority(of: settings.endpoint))
    }

    private func download(_ name: String, revision: String, layout: HubCacheLayout) throws -> ResolvedModel {
        let (commit, siblings) = try repositoryInfo(name, revision: revision)
        let selection = try ConversionFiles.select(from: siblings, repository: name)
        let snapshot = layout.snapshot(commit)
        for file in selection.files {
            try fetchFile(file, of: name, commit: commit, layout: layout)
        }
        if let index = selection.index {
            for shard in try ConversionFiles.shards(ofIndexAt: snapshot.appendingPathComponent(index)) {
                guard siblings.contains(shard) else {
                    throw LSGError(.network, file: "\(name)/\(index)", "names shard \(HubNames.quoted(shard)) that the repository does not have")
                }
                try fetchFile(shard, of: name, commit: commit, layout: layout)
            }
        }
        for file in selection.absent {
            let marker = layout.noExist(commit, file)
            try layout.checkInside(marker)
            try FileManager.default.createDirectory(at: marker.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: marker.path) {
                try Data().write(to: marker)
            }
        }
        if revision != commit {
            let ref = layout.ref(revision)
            try layout.checkInside(ref)
            try FileManager.default.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(commit.utf8).write(to: ref, options: .atomic)
        }
        return ResolvedModel(name: name, directory: snapshot, origin: .huggingFaceHub, revision: commit)
    }

    // MARK: - Requests

    /// The commit a revision names and the repository's file names.
    private func repositoryInfo(_ name: String, revision: String) throws -> (commit: String, siblings: Set<String>) {
        let url = try endpointURL("/api/models/\(Self.encodePath(name))/revision/\(Self.encode(revision))")
        let response = try client.send("GET", url, follow: .relativeOnly)
        try check(response, name: name, revision: revision, file: nil)
        let json: JSONValue
        do { json = try JSONValue.parse(response.body) } catch {
            throw LSGError(.network, file: url.absoluteString, "the model info is not valid JSON (\(error))")
        }
        guard let commit = json["sha"]?.stringValue else {
            throw LSGError(.network, file: url.absoluteString, "the model info has no commit hash (\"sha\")")
        }
        guard ModelLocator.isCommitHash(commit) else {
            throw LSGError(.network, file: url.absoluteString, "refused: commit \(HubNames.quoted(commit)) is not a 40-digit hash")
        }
        guard let entries = json["siblings"]?.arrayValue else {
            throw LSGError(.network, file: url.absoluteString, "the model info has no file list (\"siblings\")")
        }
        var siblings = Set<String>()
        for entry in entries {
            guard let file = entry["rfilename"]?.stringValue else {
                throw LSGError(.network, file: url.absoluteString, "a \"siblings\" entry has no \"rfilename\"")
            }
            guard HubNames.isRelativePath(file) else {
                throw LSGError(.network, file: url.absoluteString, "refused: file name \(HubNames.quoted(file)) would leave the model folder")
            }
            siblings.insert(file)
        }
        return (commit, siblings)
    }

    /// Puts `file` in `snapshots/<commit>/`, downloading its blob unless the cache has it.
    private func fetchFile(_ file: String, of name: String, commit: String, layout: HubCacheLayout) throws {
        guard HubNames.isRelativePath(file) else {
            throw LSGError(.network, file: name, "refused: file name \(HubNames.quoted(file)) would leave the model folder")
        }
        let target = layout.snapshot(commit).appendingPathComponent(file)
        try layout.checkInside(target)
        if FileManager.default.fileExists(atPath: target.path) { return }

        let url = try endpointURL("/\(Self.encodePath(name))/resolve/\(Self.encode(commit))/\(Self.encodePath(file))")
        let head = try client.send("HEAD", url, follow: .relativeOnly)
        try check(head, name: name, revision: commit, file: file)
        guard let etagHeader = head.header("x-linked-etag") ?? head.header("etag") else {
            throw LSGError(.network, file: "\(name)/\(file)", "the hub sent no ETag")
        }
        let etag = HubNames.normalizeETag(etagHeader)
        guard HubNames.isBlobName(etag) else {
            throw LSGError(.network, file: "\(name)/\(file)", "refused: etag \(HubNames.quoted(etag)) is not a plain blob name")
        }
        if let serverCommit = head.header("x-repo-commit"), !ModelLocator.isCommitHash(serverCommit) {
            throw LSGError(.network, file: "\(name)/\(file)", "refused: commit \(HubNames.quoted(serverCommit)) is not a 40-digit hash")
        }
        guard let sizeText = head.header("x-linked-size") ?? head.header("content-length"),
              let size = Int(sizeText.trimmingCharacters(in: .whitespaces)), size >= 0
        else { throw LSGError(.network, file: "\(name)/\(file)", "the hub sent no file size") }
        var location = head.url
        if (300...399).contains(head.status) {
            guard let value = head.header("location"), let next = URL(string: value, relativeTo: head.url)?.absoluteURL,
                  let scheme = next.scheme?.lowercased(), scheme == "http" || scheme == "https", next.host != nil
            else {
                throw LSGError(.network, file: "\(name)/\(file)", "refused redirect to \(HubNames.quoted(head.header("location") ?? "")) (not an http(s) URL)")
            }
            location = next
        }

        let blob = layout.blob(etag)
        try layout.checkInside(blob)
        if !FileManager.default.fileExists(atPath: blob.path) {
            let lock = try FileLock(layout.lock(etag))
            defer { lock.release() }
            // Another process may have finished it while this one waited for the lock.
            if !FileManager.default.fileExists(atPath: blob.path) {
                try downloadBlob(file: file, etag: etag, size: size, from: location, layout: layout)
            }
        }
        try link(target, to: HubCacheLayout.linkTarget(file: file, etag: etag))
    }

    /// Downloads into `blobs/<etag>.incomplete` (resuming what is there), checks the size and,
    /// for an LFS file, the sha256, then renames it to `blobs/<etag>`. A wrong file is deleted; an
    /// interrupted one is kept for the next run to resume.
    private func downloadBlob(file: String, etag: String, size expected: Int, from location: URL,
                              layout: HubCacheLayout) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: layout.blobs, withIntermediateDirectories: true)
        let partial = layout.incompleteBlob(etag)
        if !manager.fileExists(atPath: partial.path) {
            guard manager.createFile(atPath: partial.path, contents: nil) else {
                throw LSGError(.io, file: partial.path, "cannot create")
            }
        }
        let handle = try FileHandle(forUpdating: partial)
        var handleOpen = true
        defer { if handleOpen { try? handle.close() } }
        var offset = Int(try handle.seekToEnd())
        if offset > expected {
            try handle.truncate(atOffset: 0)
            offset = 0
        }
        if offset < expected {
            progress.begin(file, total: expected, resumingFrom: offset)
            var written = offset
            var first = true
            var discard = false
            let response: HTTPResponse
            do {
                response = try client.send("GET", location, headers: offset > 0 ? ["Range": "bytes=\(offset)-"] : [:],
                                           follow: .all) { head, chunk in
                    if first {
                        first = false
                        if head.status == 206 {
                            guard Self.rangeStart(head.header("content-range")) == offset else {
                                discard = true
                                throw LSGError(.network, file: partial.path, "the server answered the range request from another byte than \(offset)")
                            }
                        } else {
                            try handle.truncate(atOffset: 0)
                            written = 0
                        }
                    }
                    guard written + chunk.count <= expected else {
                        discard = true
                        throw LSGError(.network, file: partial.path, "the server sent more than the \(expected) bytes announced")
                    }
                    try handle.write(contentsOf: chunk)
                    written += chunk.count
                    self.progress.advance(chunk.count)
                }
            } catch {
                progress.end()
                if discard {
                    try? manager.removeItem(at: partial)
                    throw LSGError(.network, file: file, "download refused (\(error)); the download was discarded")
                }
                throw LSGError(.network, file: file, "download interrupted at \(written) of \(expected) bytes (\(error)); "
                    + "run again to resume from \(partial.path)")
            }
            progress.end()
            guard response.status == 200 || response.status == 206 else {
                if response.status == 416 { try? manager.removeItem(at: partial) }
                throw LSGError(.network, file: "\(location.absoluteString)", "download failed: HTTP \(response.status)\(Self.serverMessage(response))")
            }
            guard written == expected else {
                throw LSGError(.network, file: file, "truncated download: \(written) of \(expected) bytes; run again to resume from \(partial.path)")
            }
        }
        try handle.synchronize()
        try handle.close()
        handleOpen = false
        if HubNames.isSHA256(etag) {
            let digest = try TensorHashing.sha256Hex(fileAt: partial)
            guard digest == etag else {
                try? manager.removeItem(at: partial)
                throw LSGError(.network, file: file, "sha256 mismatch: expected \(etag), got \(digest); the download was discarded")
            }
        }
        guard rename(partial.path, layout.blob(etag).path) == 0 else {
            throw LSGError(.io, file: layout.blob(etag).path, "cannot move the download into place (\(String(cString: strerror(errno))))")
        }
    }

    /// `snapshots/<commit>/<file>` -> `target`, created beside under a unique name and renamed into place.
    private func link(_ url: URL, to target: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = TemporaryName.beside(url, suffix: "link")
        try manager.createSymbolicLink(atPath: temporary.path, withDestinationPath: target)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? manager.removeItem(at: temporary)
            throw LSGError(.io, file: url.path, "cannot create the snapshot link (\(reason))")
        }
    }

    // MARK: - Errors and URLs

    /// Turns a failed response into a one-line error that says what to do.
    private func check(_ response: HTTPResponse, name: String, revision: String, file: String?) throws {
        if (200...399).contains(response.status) { return }
        let subject = file.map { "\(name)/\($0)" } ?? name
        let code = response.header("x-error-code")
        let message = Self.serverMessage(response)
        switch (response.status, code) {
        case (404, "RevisionNotFound"?):
            throw LSGError(.network, file: subject, "revision \(revision) not found on \(settings.endpoint.absoluteString) (404)\(message)")
        case (404, "EntryNotFound"?):
            throw LSGError(.network, file: subject, "file not found at revision \(revision) on \(settings.endpoint.absoluteString) (404)\(message)")
        case (404, _):
            throw LSGError(.network, file: subject, "no local directory of that name, and model not found on "
                + "\(settings.endpoint.absoluteString) (404)\(message)")
        case (401, _), (403, _):
            let hint = code == "GatedRepo" ? "the model is gated: accept its conditions on the hub, then set HF_TOKEN"
                : settings.token == nil ? "the model is private, gated or missing; set HF_TOKEN to a token with access"
                : "HF_TOKEN was refused or has no access to this model"
            throw LSGError(.network, file: subject, "access denied by \(settings.endpoint.absoluteString) (\(response.status)): \(hint)\(message)")
        default:
            throw LSGError(.network, file: subject, "HTTP \(response.status) from \(response.url.absoluteString)\(message)")
        }
    }

    private static func serverMessage(_ response: HTTPResponse) -> String {
        guard let message = response.header("x-error-message"), !message.isEmpty else { return "" }
        return ": " + HubNames.quoted(message)
    }

    private func endpointURL(_ path: String) throws -> URL {
        var base = settings.endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base + path) else { throw LSGError(.network, file: base + path, "is not a valid URL") }
        return url
    }

    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Percent-encodes everything but unreserved characters (a revision like `refs/pr/1` becomes one segment).
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Percent-encodes each `/`-separated component.
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    /// The first byte of `Content-Range: bytes <start>-<end>/<size>`.
    static func rangeStart(_ header: String?) -> Int? {
        guard let header, header.hasPrefix("bytes ") else { return nil }
        return header.dropFirst(6).split(separator: "-").first.flatMap { Int($0) }
    }
}

/// An exclusive `flock` on a lock file, held until released.
private final class FileLock {
    private let descriptor: Int32

    init(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LSGError(.io, file: url.path, "cannot open the download lock (\(String(cString: strerror(errno))))")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw LSGError(.io, file: url.path, "cannot take the download lock (\(reason))")
            }
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
