import Checkpoint
import Foundation
import Hub
import TestSupport

let fixture = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")
let repositoryName = "test-org/camembert-tiny"

/// A scratch directory holding a hub cache (`<scratch>/cache`) and a working directory.
struct CacheSandbox {
    let scratch: ScratchDirectory
    var cache: URL { scratch.file("cache") }
    var work: URL { scratch.file("work") }

    init() throws {
        scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    func repository(_ name: String = repositoryName) -> URL {
        cache.appendingPathComponent("models--" + name.replacingOccurrences(of: "/", with: "--"))
    }

    /// Resolves `name` through a locator whose fetcher downloads from `endpoint`.
    func fetch(_ name: String = repositoryName, from endpoint: URL, revision: String = "main", token: String? = nil,
               offline: Bool = false, progress: DownloadProgress = .silent) throws -> ResolvedModel {
        let settings = HubSettings(endpoint: endpoint, token: token, offline: offline)
        let locator = ModelLocator(environment: ["HF_HUB_CACHE": cache.path], currentDirectory: work, revision: revision,
                                   fetcher: HubDownloader(settings: settings, progress: progress))
        return try locator.resolve(name)
    }

    /// Every file, link and directory under the scratch directory, as paths relative to it.
    func allPaths() -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: scratch.url.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.sorted()
    }

    /// Paths under the scratch directory that are neither the cache's nor the working directory.
    func pathsOutsideCache() -> [String] {
        allPaths().filter { !$0.hasPrefix("cache") && $0 != "work" }
    }

    func remove() { scratch.remove() }
}

/// The message of a thrown error, as the CLI prints it.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// Collects progress output.
final class ProgressCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    var output: String { lock.withLock { text } }
    let isTerminal: Bool
    init(isTerminal: Bool = false) { self.isTerminal = isTerminal }
    lazy var progress = DownloadProgress(isTerminal: isTerminal) { [unowned self] line in lock.withLock { text += line } }
}
