import Checkpoint
import Foundation
import LSGErrors

/// Where and how to reach the hub, read from the environment as `huggingface_hub` reads it:
/// `HF_ENDPOINT` (default https://huggingface.co), `HF_TOKEN`, `HF_HUB_OFFLINE`.
/// The cache directory is the locator's (`HF_HUB_CACHE`, `HF_HOME/hub`, `~/.cache/huggingface/hub`).
public struct HubSettings: Sendable {
    public static let defaultEndpoint = URL(string: "https://huggingface.co")!

    public var endpoint: URL
    public var token: String?
    public var offline: Bool

    public init(endpoint: URL = HubSettings.defaultEndpoint, token: String? = nil, offline: Bool = false) {
        self.endpoint = endpoint
        self.token = token
        self.offline = offline
    }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var endpoint = Self.defaultEndpoint
        if let value = environment["HF_ENDPOINT"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
            let trimmed = value.hasSuffix("/") ? String(value.dropLast()) : value
            guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil
            else { throw LSGError(.invalidOption, file: "HF_ENDPOINT", "'\(value)' is not an http(s) URL") }
            endpoint = url
        }
        let token = environment["HF_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(endpoint: endpoint, token: token?.isEmpty == false ? token : nil,
                  offline: Self.isTrue(environment["HF_HUB_OFFLINE"]))
    }

    /// `huggingface_hub`'s reading of boolean variables: 1, ON, YES, TRUE in any case.
    static func isTrue(_ value: String?) -> Bool {
        guard let value else { return false }
        return ["1", "ON", "YES", "TRUE"].contains(value.trimmingCharacters(in: .whitespaces).uppercased())
    }
}
