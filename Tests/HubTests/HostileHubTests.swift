import Foundation
import Hub
import Testing
import TestSupport

/// A hostile server: file names, commit hashes, etags and redirects that would leave the cache
/// folder, or never end, are refused, and nothing is written outside the cache.
@Suite(.serialized) struct HostileHubTests {
    typealias Tamper = @Sendable (FakeHub.Request, FakeHub.Response) -> FakeHub.Response

    /// Rewrites the model info's JSON text.
    static func modelInfo(_ rewrite: @escaping @Sendable (String) -> String) -> Tamper {
        { request, response in
            guard request.path.hasPrefix("/api/models/") else { return response }
            var changed = response
            changed.body = Data(rewrite(String(decoding: response.body, as: UTF8.self)).utf8)
            changed.setHeader("Content-Length", nil)
            return changed
        }
    }

    /// Sets a header on the metadata answer for `file`.
    static func header(_ name: String, _ value: String, for file: String) -> Tamper {
        { request, response in
            guard request.method == "HEAD", request.path.hasSuffix("/" + file) else { return response }
            var changed = response
            changed.setHeader(name, value)
            return changed
        }
    }

    static let cases: [(String, Tamper, String)] = [
        ("parent directory in a file name", modelInfo { $0.replacingOccurrences(of: "\"README.md\"", with: "\"../../../../evil.json\"") }, "refused: file name"),
        ("absolute file name", modelInfo { $0.replacingOccurrences(of: "\"README.md\"", with: "\"/tmp/evil.json\"") }, "refused: file name"),
        ("backslash in a file name", modelInfo { $0.replacingOccurrences(of: "\"README.md\"", with: "\"..\\\\..\\\\evil.json\"") }, "refused: file name"),
        ("NUL in a file name", modelInfo { $0.replacingOccurrences(of: "\"README.md\"", with: "\"evil\\u0000.json\"") }, "refused: file name"),
        ("commit hash with a path", modelInfo { $0.replacingOccurrences(of: "\"0123456789abcdef0123456789abcdef01234567\"", with: "\"../../../evil\"") }, "refused: commit"),
        ("etag with a path", header("X-Linked-Etag", "\"../../../evil\"", for: "model.safetensors"), "refused: etag"),
        ("etag that is a dot file", header("ETag", "\"..\"", for: "config.json"), "refused: etag"),
        ("commit header with a path", header("X-Repo-Commit", "../../evil", for: "config.json"), "refused: commit"),
        ("redirect to a local file", header("Location", "file:///etc/passwd", for: "model.safetensors"), "refused redirect"),
        ("endless relative redirects", { request, response in
            guard request.method == "HEAD", request.path.hasSuffix("/config.json") else { return response }
            return FakeHub.Response(status: 307, headers: [("Location", request.target)])
        }, "more than 10 redirects"),
        ("more bytes than announced", { request, response in
            guard request.method == "GET", request.path.hasSuffix("/config.json") else { return response }
            var changed = response
            changed.body += Data(repeating: 0x20, count: 64)
            return changed
        }, "more than the"),
    ]

    @Test(arguments: cases.indices)
    func hostileAnswersAreRefusedWithNothingWrittenOutsideTheCache(_ index: Int) throws {
        let (name, tamper, expected) = Self.cases[index]
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture, tamper: tamper)
        defer { hub.stop() }

        let message = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint) }, "\(name)")
        #expect(message.contains(expected), "\(name): \(message)")
        #expect(!message.contains("\n"), "\(name)")
        #expect(sandbox.pathsOutsideCache().isEmpty, "\(name)")
        #expect(!sandbox.allPaths().contains { $0.contains("evil") }, "\(name)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.json"))
        #expect(!sandbox.allPaths().contains { $0.hasSuffix("refs/main") }, "\(name)")
    }

    @Test func aShardNameLeavingTheFolderIsRefused() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, files: [
            "config.json": Data("{}".utf8),
            "model.safetensors.index.json": Data("{\"weight_map\": {\"a\": \"../evil.safetensors\"}}".utf8),
        ])
        defer { hub.stop() }
        let message = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint) })
        #expect(message.contains("leaves the model directory"))
        #expect(sandbox.pathsOutsideCache().isEmpty)
    }

    @Test func hostileRequestNamesNeverReachTheNetwork() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }
        for name in ["../../etc", "org/../x", "a/b/c", "org/-x", "/abs/path"] {
            let message = try #require(errorMessage { _ = try sandbox.fetch(name, from: hub.endpoint) }, "\(name)")
            #expect(message.contains("not found") || message.contains("not a Hugging Face model name"), "\(name): \(message)")
        }
        for revision in ["../main", "refs/../../x", "/main", "a\\b"] {
            let message = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint, revision: revision) })
            #expect(message.contains("not a revision name"), "\(revision): \(message)")
        }
        #expect(hub.requests.isEmpty)
        #expect(sandbox.pathsOutsideCache().isEmpty)
    }
}
