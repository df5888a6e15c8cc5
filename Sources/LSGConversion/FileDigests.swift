import Checkpoint
import Dispatch
import Foundation

/// sha256 of some files, computed on a background thread from creation on; `digest(of:)` waits
/// for it. Lets the manifest's source hashes use the second core while the weights are written.
/// A hub cache file whose blob name is its sha256 is not read again.
final class FileDigests: @unchecked Sendable {
    private let done = DispatchGroup()
    // Written only by the background task, read only after `done` is waited for.
    private var results: [String: Result<String, any Error>] = [:]

    init(hashing files: [URL]) {
        DispatchQueue.global().async(group: done) {
            for url in files {
                self.results[url.standardizedFileURL.path] = Result {
                    try ModelLocator.cachedBlobSHA256(of: url) ?? TensorHashing.sha256Hex(fileAt: url)
                }
            }
        }
    }

    /// The file's sha256, or nil when it was not one of the files given.
    func digest(of url: URL) throws -> String? {
        done.wait()
        return try results[url.standardizedFileURL.path]?.get()
    }
}
