import AsyncHTTPClient
import Checkpoint
import Foundation
import LSGErrors
import NIOCore
import NIOHTTP1

/// One HTTP response: status, headers (lowercased names), the URL that answered, and the body
/// when it was not streamed to a sink.
struct HTTPResponse: Sendable {
    let status: Int
    let headers: [String: String]
    let url: URL
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Synchronous HTTP over AsyncHTTPClient (SwiftNIO, TLS through BoringSSL with the system's CA
/// certificates, read at run time), one request at a time. It replaces URLSession, whose Linux
/// implementation needs libcurl at run time: with it the statically linked binary starts on a
/// system that has no libcurl. Redirects are never followed by the HTTP library: the caller
/// decides (`follow`), so the hub's metadata request can stop at the CDN redirect, as
/// huggingface_hub does, and the token never goes to another host.
struct HTTPClient: Sendable {
    enum Redirects { case none, relativeOnly, all }
    /// Receives a 2xx body chunk by chunk, with the response's status and headers.
    typealias Sink = (_ head: HTTPResponse, _ chunk: Data) throws -> Void

    static let maximumRedirects = 10
    /// Bodies kept in memory (JSON, error messages); downloads stream to a sink instead.
    static let maximumBufferedBody = 64 << 20
    /// Bounds connecting and each wait for data (not the whole transfer), as URLSession's
    /// `timeoutIntervalForRequest` did before.
    static let timeout = TimeAmount.seconds(30)

    var token: String?
    /// `host:port` of the server the token belongs to (the endpoint); never sent elsewhere.
    var tokenAuthority: String?

    /// Sends `method` to `url`, following redirects as `follow` says. With a sink, a 2xx body
    /// goes to the sink as it arrives (other bodies are buffered for the error message).
    func send(_ method: String, _ url: URL, headers: [String: String] = [:], follow: Redirects,
              sink: Sink? = nil) throws -> HTTPResponse {
        var current = url
        for _ in 0...Self.maximumRedirects {
            let response = try perform(method, current, headers: headers, sink: sink)
            guard (300...399).contains(response.status), let location = response.header("location") else {
                return response
            }
            let isRelative = URL(string: location)?.host == nil
            switch follow {
            case .none: return response
            case .relativeOnly where !isRelative: return response
            default: break
            }
            guard let next = URL(string: location, relativeTo: current)?.absoluteURL,
                  let scheme = next.scheme?.lowercased(), scheme == "http" || scheme == "https", next.host != nil
            else {
                throw LSGError(.network, file: url.absoluteString, "refused redirect to \(HubNames.quoted(location)) (not an http(s) URL)")
            }
            current = next
        }
        throw LSGError(.network, file: url.absoluteString, "refused: more than \(Self.maximumRedirects) redirects")
    }

    static func authority(of url: URL) -> String? {
        guard let host = url.host?.lowercased() else { return nil }
        return "\(host):\(url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80))"
    }

    /// One client for the process, on NIO's shared event loops: connections are pooled between
    /// requests, redirects come back to `send`, bodies are never decompressed (the real size, as
    /// huggingface_hub asks). Never shut down: it lives as long as the process.
    private static let shared: AsyncHTTPClient.HTTPClient = {
        var configuration = AsyncHTTPClient.HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeout, read: timeout, write: timeout),
            decompression: .disabled)
        // A refused or failed connection fails the request at once (as URLSession did), instead
        // of retrying with backoff for the whole connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        return AsyncHTTPClient.HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    private func perform(_ method: String, _ url: URL, headers: [String: String],
                         sink: Sink?) throws -> HTTPResponse {
        var fields = HTTPHeaders()
        fields.replaceOrAdd(name: "User-Agent", value: "lsg-convert")
        // The real size, as huggingface_hub asks: no transparent compression.
        fields.replaceOrAdd(name: "Accept-Encoding", value: "identity")
        if let token, let tokenAuthority, Self.authority(of: url) == tokenAuthority {
            fields.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        }
        for (name, value) in headers { fields.replaceOrAdd(name: name, value: value) }
        let request: AsyncHTTPClient.HTTPClient.Request
        do {
            request = try .init(url: url.absoluteString, method: HTTPMethod(rawValue: method), headers: fields)
        } catch {
            throw LSGError(.network, file: url.absoluteString, "request failed: \(error)")
        }
        let delegate = ResponseCollector(url: url, sink: sink)
        let task = Self.shared.execute(request: request, delegate: delegate)
        let result: Result<HTTPResponse, any Error>
        do { result = .success(try task.futureResult.wait()) } catch { result = .failure(error) }
        return try delegate.finish(result)
    }
}

/// The delegate of one request: records the response head, streams a 2xx body to the sink or
/// buffers it. Called on the event loop; `finish` runs on the waiting caller's thread.
private final class ResponseCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = HTTPResponse

    private let lock = NSLock()
    private let url: URL
    private let sink: HTTPClient.Sink?
    private var head: HTTPResponse?
    private var body = Data()
    private var streaming = false
    private var sinkFailure: (any Error)?

    init(url: URL, sink: HTTPClient.Sink?) {
        self.url = url
        self.sink = sink
    }

    func didReceiveHead(task: AsyncHTTPClient.HTTPClient.Task<HTTPResponse>, _ response: HTTPResponseHead) -> EventLoopFuture<Void> {
        lock.withLock {
            var headers: [String: String] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { "\($0), \(value)" } ?? value
            }
            head = HTTPResponse(status: Int(response.status.code), headers: headers, url: url, body: Data())
            streaming = sink != nil && (200...299).contains(Int(response.status.code))
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: AsyncHTTPClient.HTTPClient.Task<HTTPResponse>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let chunk = Data(buffer.readableBytesView)
        let failure: (any Error)? = lock.withLock {
            if let sinkFailure { return sinkFailure }
            if streaming, let sink, let head {
                do { try sink(head, chunk) } catch { sinkFailure = error; return error }
                return nil
            }
            body.append(chunk)
            if body.count > HTTPClient.maximumBufferedBody {
                let error = LSGError(.network, file: url.absoluteString, "body larger than \(HTTPClient.maximumBufferedBody) bytes")
                sinkFailure = error
                return error
            }
            return nil
        }
        // A failed future cancels the request.
        if let failure { return task.eventLoop.makeFailedFuture(failure) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: AsyncHTTPClient.HTTPClient.Task<HTTPResponse>) throws -> HTTPResponse {
        try lock.withLock {
            guard let head else { throw LSGError(.network, file: url.absoluteString, "no HTTP response") }
            return HTTPResponse(status: head.status, headers: head.headers, url: head.url, body: body)
        }
    }

    /// The response, or the sink's own error before any transport error it caused.
    func finish(_ result: Result<HTTPResponse, any Error>) throws -> HTTPResponse {
        if let sinkFailure = lock.withLock({ sinkFailure }) { throw sinkFailure }
        switch result {
        case .success(let response): return response
        case .failure(let error as LSGError): throw error
        case .failure(let error):
            throw LSGError(.network, file: url.absoluteString, "request failed: \(error)")
        }
    }
}
