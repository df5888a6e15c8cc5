import Foundation
import Hub
import Testing

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
}
