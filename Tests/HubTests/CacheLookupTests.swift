import Checkpoint
import Foundation
import Hub
import LSGErrors
import Testing
import TestSupport

/// `ModelLocator`'s cache lookup, on a cache the downloader wrote: a revision resolves through
/// `refs/<revision>` or as a commit hash; a ref that does not hold a commit hash is an error.
@Suite struct CacheLookupTests {
    @Test func aRevisionResolvesByRefOrByCommitHash() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        let downloaded = try sandbox.fetch(from: hub.endpoint)
        hub.stop()

        func locator(_ revision: String) -> ModelLocator {
            ModelLocator(environment: ["HF_HUB_CACHE": sandbox.cache.path], currentDirectory: sandbox.work, revision: revision)
        }
        #expect(try locator("main").resolve(repositoryName).directory == downloaded.directory)
        let byCommit = try locator(hub.commit).resolve(repositoryName)
        #expect(byCommit.directory == downloaded.directory)
        #expect(byCommit.origin == .huggingFaceCache)
        #expect(byCommit.revision == hub.commit)
        #expect(throws: LSGError.self) { try locator("v1").resolve(repositoryName) }

        try Data("../../elsewhere".utf8).write(to: sandbox.repository().appendingPathComponent("refs/main"))
        let error = #expect(throws: LSGError.self) { try locator("main").resolve(repositoryName) }
        #expect(error?.problem == "does not hold a commit hash")
        // With the downloader, a broken ref is replaced by a fresh download.
        let fresh = try FakeHub(repository: repositoryName, directory: fixture)
        defer { fresh.stop() }
        #expect(try sandbox.fetch(from: fresh.endpoint).directory == downloaded.directory)
        #expect(try String(contentsOf: sandbox.repository().appendingPathComponent("refs/main"), encoding: .utf8) == hub.commit)
    }
}
