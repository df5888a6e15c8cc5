import Checkpoint
import Foundation
import Hub
import LSGErrors
import Testing
import TestSupport

/// Downloads from a fake hub on loopback: the cache layout, cache reuse without requests,
/// offline mode, resume, integrity checks and server errors.
@Suite(.serialized) struct HubDownloadTests {
    static let neededFiles = ["config.json", "model.safetensors", "sentencepiece.bpe.model",
                              "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]

    @Test func firstRunDownloadsIntoTheStandardCacheLayout() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }
        let capture = ProgressCapture()

        let resolved = try sandbox.fetch(from: hub.endpoint, progress: capture.progress)

        let repository = sandbox.repository()
        let snapshot = repository.appendingPathComponent("snapshots/\(hub.commit)")
        #expect(resolved.origin == .huggingFaceHub)
        #expect(resolved.revision == hub.commit)
        #expect(resolved.directory.standardizedFileURL.path == snapshot.standardizedFileURL.path)
        #expect(try String(contentsOf: repository.appendingPathComponent("refs/main"), encoding: .utf8) == hub.commit)
        let manager = FileManager.default
        for file in Self.neededFiles {
            let link = snapshot.appendingPathComponent(file)
            #expect(try manager.destinationOfSymbolicLink(atPath: link.path) == "../../blobs/\(hub.etag(of: file))", "\(file)")
            #expect(try Data(contentsOf: link) == hub.files[file], "\(file)")
            let blob = repository.appendingPathComponent("blobs/\(hub.etag(of: file))")
            #expect(try manager.attributesOfItem(atPath: blob.path)[.type] as? FileAttributeType == .typeRegular)
            // An LFS blob's name is its sha256, so the manifest need not read it again; a git
            // file's blob is named by its sha1 and must be hashed.
            let lfs = hub.etag(of: file).count == 64
            #expect(ModelLocator.cachedBlobSHA256(of: link) == (lfs ? FakeHub.sha256(hub.files[file]!) : nil), "\(file)")
        }
        #expect(hub.etag(of: "model.safetensors") == FakeHub.sha256(hub.files["model.safetensors"]!))
        // Only what the conversion reads: no README.md, no .gitattributes.
        #expect(try manager.contentsOfDirectory(atPath: snapshot.path).sorted() == Self.neededFiles)
        #expect(try manager.contentsOfDirectory(atPath: repository.appendingPathComponent("blobs").path).count == 6)
        #expect(!sandbox.allPaths().contains { $0.hasSuffix(".incomplete") })
        // Tokenizer files the repository lacks are recorded as absent, as huggingface_hub does.
        #expect(manager.fileExists(atPath: repository.appendingPathComponent(".no_exist/\(hub.commit)/added_tokens.json").path))
        #expect(sandbox.pathsOutsideCache().isEmpty)
        // One model info request, one HEAD per file, one GET per file (LFS files through the CDN redirect).
        let requests = hub.requests
        #expect(requests.first?.target == "/api/models/\(repositoryName)/revision/main")
        #expect(requests.filter { $0.method == "HEAD" }.count == 6)
        #expect(requests.filter { $0.method == "GET" && $0.path.hasPrefix("/cdn/") }.count == 2)
        #expect(requests.allSatisfy { $0.headers["authorization"] == nil })
        // Sizes must be the real ones: no transparent compression.
        #expect(requests.allSatisfy { $0.headers["accept-encoding"] == "identity" })
        #expect(capture.output.contains("downloading model.safetensors ("))
        #expect(capture.output.contains("downloaded model.safetensors:"))
        // What the conversion opens.
        let directory = try ModelDirectory(resolved: resolved)
        #expect(directory.tokenizer.fileNames.contains("tokenizer.json"))
    }

    @Test func drawsAProgressBarOnATerminal() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }
        let capture = ProgressCapture(isTerminal: true)
        _ = try sandbox.fetch(from: hub.endpoint, progress: capture.progress)
        #expect(capture.output.contains("\rmodel.safetensors [\(String(repeating: "#", count: 30))] 100% "))
        #expect(capture.output.contains(" KB / "))
        #expect(!capture.output.contains("downloading "))
    }

    @Test func secondRunUsesTheCacheWithoutAnyRequest() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        let first = try sandbox.fetch(from: hub.endpoint)
        hub.server.resetRequests()

        let second = try sandbox.fetch(from: hub.endpoint)
        #expect(hub.requests.isEmpty)
        #expect(second.origin == .huggingFaceCache)
        #expect(second.directory == first.directory)
        #expect(second.revision == hub.commit)

        hub.stop()
        #expect(try sandbox.fetch(from: hub.endpoint).directory == first.directory)
    }

    @Test func offlineModeFailsClearlyWhenTheCacheLacksAFileAndUsesItOtherwise() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }

        let empty = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint, offline: true) })
        #expect(empty.contains("HF_HUB_OFFLINE") && empty.contains("config.json") && empty.contains(repositoryName))
        #expect(!empty.contains("\n"))
        #expect(hub.requests.isEmpty)

        let downloaded = try sandbox.fetch(from: hub.endpoint)
        hub.server.resetRequests()
        let offline = try sandbox.fetch(from: hub.endpoint, offline: true)
        #expect(offline.directory == downloaded.directory)
        #expect(hub.requests.isEmpty)

        try FileManager.default.removeItem(at: downloaded.directory.appendingPathComponent("model.safetensors"))
        let missing = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint, offline: true) })
        #expect(missing.contains("HF_HUB_OFFLINE") && missing.contains("lacks model.safetensors"))
        #expect(hub.requests.isEmpty)

        // Online, only the missing file is fetched again (its blob is still there: no GET).
        _ = try sandbox.fetch(from: hub.endpoint)
        #expect(hub.requests.map(\.method) == ["GET", "HEAD"])
    }

    @Test func resumesAPartialDownloadWithARangeRequest() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }
        let weights = try #require(hub.files["model.safetensors"])
        let etag = hub.etag(of: "model.safetensors")
        let blobs = sandbox.repository().appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let half = weights.count / 2
        try weights.prefix(half).write(to: blobs.appendingPathComponent("\(etag).incomplete"))
        let capture = ProgressCapture()

        let resolved = try sandbox.fetch(from: hub.endpoint, progress: capture.progress)

        #expect(try Data(contentsOf: resolved.directory.appendingPathComponent("model.safetensors")) == weights)
        let cdn = hub.requests.filter { $0.path == "/cdn/\(etag)" }
        #expect(cdn.count == 1)
        #expect(cdn.first?.headers["range"] == "bytes=\(half)-")
        #expect(!FileManager.default.fileExists(atPath: blobs.appendingPathComponent("\(etag).incomplete").path))
        #expect(capture.output.contains("resuming at"))
    }

    @Test func aBadHashIsRefusedAndNothingIsKept() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture) { request, response in
            guard request.path.hasPrefix("/cdn/"), request.method == "GET" else { return response }
            var corrupted = response
            corrupted.body[corrupted.body.count / 2] ^= 0xFF
            return corrupted
        }
        defer { hub.stop() }

        let error = #expect(throws: LSGError.self) { _ = try sandbox.fetch(from: hub.endpoint) }
        #expect(error?.kind == .network)
        let message = error?.description ?? ""
        #expect(message.contains("sha256 mismatch"))
        #expect(!message.contains("\n"))
        let paths = sandbox.allPaths()
        #expect(!paths.contains { $0.hasSuffix(".incomplete") })
        #expect(!paths.contains { $0.hasSuffix("/blobs/\(hub.etag(of: "model.safetensors"))") || $0.hasSuffix("/blobs/\(hub.etag(of: "sentencepiece.bpe.model"))") })
        #expect(!paths.contains { $0.hasSuffix("/refs/main") })
        #expect(!paths.contains { $0.hasSuffix(".model") || $0.hasSuffix(".safetensors") })
        #expect(sandbox.pathsOutsideCache().isEmpty)
    }

    @Test func aTruncatedBodyIsRefusedThenResumed() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let full = try Data(contentsOf: fixture.appendingPathComponent("model.safetensors"))
        let etag = FakeHub.sha256(full)
        do {
            let hub = try FakeHub(repository: repositoryName, directory: fixture) { request, response in
                guard request.path == "/cdn/\(etag)", request.method == "GET" else { return response }
                var truncated = response
                truncated.sendOnly = response.body.count / 3
                return truncated
            }
            defer { hub.stop() }
            let message = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint) })
            #expect(message.contains("interrupted") || message.contains("truncated"))
            #expect(message.contains("run again to resume"), "\(message)")
            #expect(!message.contains("\n"))
        }
        let repository = sandbox.repository()
        let paths = sandbox.allPaths()
        #expect(!paths.contains { $0.hasSuffix("/model.safetensors") })
        #expect(!paths.contains { $0.hasSuffix("/blobs/\(etag)") })
        #expect(!paths.contains { $0.hasSuffix("/refs/main") })
        let partial = repository.appendingPathComponent("blobs/\(etag).incomplete")
        let partialSize = try #require(try FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int)
        #expect(partialSize > 0 && partialSize < full.count)
        #expect(try Data(contentsOf: partial) == full.prefix(partialSize))

        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }
        let resolved = try sandbox.fetch(from: hub.endpoint)
        #expect(try Data(contentsOf: resolved.directory.appendingPathComponent("model.safetensors")) == full)
        #expect(hub.requests.first { $0.path == "/cdn/\(etag)" }?.headers["range"] == "bytes=\(partialSize)-")
    }

    @Test func concurrentDownloadsIntoOneCacheAgree() async throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }
        let endpoint = hub.endpoint
        let directories = try await withThrowingTaskGroup(of: URL.self) { group in
            for _ in 0..<3 {
                group.addTask { try sandbox.fetch(from: endpoint).directory }
            }
            return try await group.reduce(into: [URL]()) { $0.append($1) }
        }
        #expect(Set(directories).count == 1)
        let snapshot = try #require(directories.first)
        for file in Self.neededFiles {
            #expect(try Data(contentsOf: snapshot.appendingPathComponent(file)) == hub.files[file], "\(file)")
        }
        #expect(!sandbox.allPaths().contains { $0.hasSuffix(".incomplete") })
        #expect(FileManager.default.fileExists(atPath: sandbox.cache.appendingPathComponent(
            ".locks/models--test-org--camembert-tiny/\(hub.etag(of: "model.safetensors")).lock").path))
    }

    @Test func aPrivateModelNeedsTheToken() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture, token: "hf_secret")
        defer { hub.stop() }

        let message = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint) })
        #expect(message.contains("401") && message.contains("HF_TOKEN"))
        #expect(!message.contains("\n"))
        let wrong = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint, token: "hf_wrong") })
        #expect(wrong.contains("HF_TOKEN was refused"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.repository().appendingPathComponent("snapshots").path))

        hub.server.resetRequests()
        let resolved = try sandbox.fetch(from: hub.endpoint, token: "hf_secret")
        #expect(resolved.origin == .huggingFaceHub)
        // Same host for the CDN here, so the token goes along, as huggingface_hub sends it.
        #expect(hub.requests.allSatisfy { $0.headers["authorization"] == "Bearer hf_secret" })
    }

    @Test func theTokenIsNeverSentToAnotherHost() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        // The CDN redirect names the same server as `localhost`: another host for the client.
        let hub = try FakeHub(repository: repositoryName, directory: fixture, token: "hf_secret") { _, response in
            guard let location = response.header("Location") else { return response }
            var changed = response
            changed.setHeader("Location", location.replacingOccurrences(of: "127.0.0.1", with: "localhost"))
            return changed
        }
        defer { hub.stop() }
        _ = try sandbox.fetch(from: hub.endpoint, token: "hf_secret")
        let cdn = hub.requests.filter { $0.path.hasPrefix("/cdn/") }
        #expect(cdn.count == 2)
        #expect(cdn.allSatisfy { $0.headers["authorization"] == nil && $0.headers["host"]?.hasPrefix("localhost:") == true })
        #expect(hub.requests.filter { !$0.path.hasPrefix("/cdn/") }.allSatisfy { $0.headers["authorization"] == "Bearer hf_secret" })
    }

    @Test func anUnknownModelOrRevisionGivesAOneLineError() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        defer { hub.stop() }

        let model = try #require(errorMessage { _ = try sandbox.fetch("test-org/missing", from: hub.endpoint) })
        #expect(model == "test-org/missing: no local directory of that name, and model not found on "
            + "\(hub.endpoint.absoluteString) (404): 'Repository not found'")
        let revision = try #require(errorMessage { _ = try sandbox.fetch(from: hub.endpoint, revision: "v9") })
        #expect(revision.hasPrefix("\(repositoryName): revision v9 not found on"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.cache.path))
    }

    @Test func anUnreachableHubGivesAOneLineError() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture)
        let endpoint = hub.endpoint
        hub.stop()
        let start = Date()
        let error = #expect(throws: LSGError.self) { _ = try sandbox.fetch(from: endpoint) }
        #expect(error?.kind == .network)
        let message = error?.description ?? ""
        #expect(message.contains("request failed"))
        #expect(!message.contains("\n"))
        // A refused connection is an answer: no retrying until the 30 s connect timeout.
        #expect(Date().timeIntervalSince(start) < 10, "\(message)")
    }

    @Test func followsTheRelativeRedirectOfARenamedRepository() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, directory: fixture) { request, response in
            let old = "old-org/camembert-tiny"
            guard request.target.contains(old) else { return response }
            return FakeHub.Response(status: 307, headers: [("Location", request.target.replacingOccurrences(of: old, with: repositoryName))])
        }
        defer { hub.stop() }
        let resolved = try sandbox.fetch("old-org/camembert-tiny", from: hub.endpoint)
        #expect(resolved.directory.path.contains("models--old-org--camembert-tiny/snapshots/"))
        #expect(try Data(contentsOf: resolved.directory.appendingPathComponent("config.json")) == hub.files["config.json"])
    }

    @Test func downloadsAShardedCheckpoint() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        let index = """
            {"metadata": {"total_size": 16}, "weight_map": {"a": "\(shards[0])", "b": "\(shards[1])", "c": "\(shards[1])"}}
            """
        let hub = try FakeHub(repository: repositoryName, files: [
            "config.json": Data("{\"model_type\": \"camembert\"}".utf8),
            "model.safetensors.index.json": Data(index.utf8),
            shards[0]: Data(repeating: 1, count: 4096), shards[1]: Data(repeating: 2, count: 8192),
            "pytorch_model.bin": Data(repeating: 3, count: 100),
        ])
        defer { hub.stop() }
        let resolved = try sandbox.fetch(from: hub.endpoint)
        let names = try FileManager.default.contentsOfDirectory(atPath: resolved.directory.path).sorted()
        #expect(names == (["config.json", "model.safetensors.index.json"] + shards).sorted())
        #expect(try Data(contentsOf: resolved.directory.appendingPathComponent(shards[1])) == hub.files[shards[1]])
        hub.server.resetRequests()
        _ = try sandbox.fetch(from: hub.endpoint, offline: true)
        // Online again: the tokenizer files are recorded absent, so the cache is complete.
        _ = try sandbox.fetch(from: hub.endpoint)
        #expect(hub.requests.isEmpty)
    }

    @Test func pytorchWeightsWhenThereAreNoSafetensors() throws {
        let sandbox = try CacheSandbox()
        defer { sandbox.remove() }
        let hub = try FakeHub(repository: repositoryName, files: [
            "config.json": Data("{}".utf8), "pytorch_model.bin": Data(repeating: 7, count: 1000), "vocab.txt": Data("[PAD]\n".utf8),
        ])
        defer { hub.stop() }
        let resolved = try sandbox.fetch(from: hub.endpoint)
        let names = try FileManager.default.contentsOfDirectory(atPath: resolved.directory.path).sorted()
        #expect(names == ["config.json", "pytorch_model.bin", "vocab.txt"])
        hub.server.resetRequests()
        _ = try sandbox.fetch(from: hub.endpoint)
        #expect(hub.requests.isEmpty)
    }
}
