import Foundation
import Testing
import TestSupport

/// `lsg-convert --from org/name` against a fake hub on loopback: the first run downloads into
/// the cache and converts, the second converts from the cache without a request, offline mode
/// fails clearly on an empty cache.
@Suite(.serialized) struct HubConvertTests {
    static let name = "test-org/camembert-tiny"
    static let fixture = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")

    /// The hub settings for one run; a token or offline flag from the caller's shell must not leak in.
    static func environment(_ hub: FakeHub, cache: URL, offline: Bool = false) -> [String: String] {
        ["HF_ENDPOINT": hub.endpoint.absoluteString, "HF_HUB_CACHE": cache.path, "HF_TOKEN": "",
         "HF_HUB_OFFLINE": offline ? "1" : "0"]
    }

    @Test func downloadsConvertsThenReusesTheCacheWithoutRequests() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let hub = try FakeHub(repository: Self.name, directory: Self.fixture)
        defer { hub.stop() }
        let cache = scratch.file("cache")
        let arguments = ["--from", Self.name, "--max-length", "1024"]

        let first = try runTool(arguments + ["--out", scratch.file("first").path],
                                environment: Self.environment(hub, cache: cache))
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardError.contains("downloading model.safetensors"))
        #expect(hub.requests.contains { $0.method == "GET" && $0.path.hasPrefix("/cdn/") })
        let snapshot = cache.appendingPathComponent("models--test-org--camembert-tiny/snapshots/\(hub.commit)")
        #expect(FileManager.default.fileExists(atPath: snapshot.appendingPathComponent("model.safetensors").path))
        let manifest = try String(contentsOf: scratch.file("first/lsg-manifest.json"), encoding: .utf8)
        #expect(manifest.contains(hub.commit))

        hub.server.resetRequests()
        let second = try runTool(arguments + ["--out", scratch.file("second").path],
                                 environment: Self.environment(hub, cache: cache))
        #expect(second.status == 0, "\(second.standardError)")
        #expect(hub.requests.isEmpty)
        #expect(!second.standardError.contains("downloading"))

        // The same bytes as a conversion of the fixture directory itself.
        let local = try runTool(["--from", Self.fixture.path, "--max-length", "1024", "--out", scratch.file("local").path])
        #expect(local.status == 0, "\(local.standardError)")
        for output in ["first", "second"] {
            #expect(try Data(contentsOf: scratch.file("\(output)/model.safetensors"))
                == Data(contentsOf: scratch.file("local/model.safetensors")), "\(output)")
        }
    }

    @Test func offlineWithAnEmptyCacheFailsWithOneLineAndWritesNothing() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let hub = try FakeHub(repository: Self.name, directory: Self.fixture)
        defer { hub.stop() }

        let result = try runTool(["--from", Self.name, "--max-length", "1024", "--out", scratch.file("out").path],
                                 environment: Self.environment(hub, cache: scratch.file("cache"), offline: true))
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains("HF_HUB_OFFLINE") && result.standardError.contains("config.json"))
        #expect(hub.requests.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out").path))
    }

    @Test func anUnknownRevisionFailsWithOneLine() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let hub = try FakeHub(repository: Self.name, directory: Self.fixture)
        defer { hub.stop() }

        let result = try runTool(["--from", Self.name, "--revision", "v9", "--out", scratch.file("out").path],
                                 environment: Self.environment(hub, cache: scratch.file("cache")))
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains("revision v9 not found"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("out").path))
    }
}
