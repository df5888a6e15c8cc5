import Checkpoint
import Foundation
import Hub
import LSGErrors
import Testing
import TestSupport

@Suite struct HubSettingsTests {
    @Test func defaultsWithAnEmptyEnvironment() throws {
        let settings = try HubSettings(environment: [:])
        #expect(settings.endpoint.absoluteString == "https://huggingface.co")
        #expect(settings.token == nil)
        #expect(!settings.offline)
    }

    @Test func readsEndpointTokenAndOfflineFlag() throws {
        let settings = try HubSettings(environment: [
            "HF_ENDPOINT": "http://127.0.0.1:8080/", "HF_TOKEN": " hf_secret\n", "HF_HUB_OFFLINE": "yes",
        ])
        #expect(settings.endpoint.absoluteString == "http://127.0.0.1:8080")
        #expect(settings.token == "hf_secret")
        #expect(settings.offline)
        #expect(try !HubSettings(environment: ["HF_HUB_OFFLINE": "0"]).offline)
    }

    @Test func refusesAnEndpointThatIsNotHTTP() {
        #expect(throws: (any Error).self) { try HubSettings(environment: ["HF_ENDPOINT": "file:///etc"]) }
        #expect(throws: (any Error).self) { try HubSettings(environment: ["HF_ENDPOINT": "not a url"]) }
    }

    @Test func aBadEndpointMattersOnlyWhenTheHubIsNeeded() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let locator = ModelLocator(environment: ["HF_HUB_CACHE": scratch.file("cache").path], currentDirectory: scratch.url,
                                   fetcher: HubDownloader(environment: ["HF_ENDPOINT": "ftp://mirror"], progress: .silent))
        #expect(try locator.resolve(goldenDirectory.appendingPathComponent("fixtures/camembert-tiny").path).origin == .localDirectory)
        #expect(throws: LSGError.self) { try locator.resolve("org/model") }
        do {
            _ = try locator.resolve("org/model")
        } catch {
            #expect("\(error)" == "HF_ENDPOINT: 'ftp://mirror' is not an http(s) URL")
        }
    }
}
