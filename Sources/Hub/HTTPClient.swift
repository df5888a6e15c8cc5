import Checkpoint
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP response: status, headers (lowercased names), the URL that answered, and the body
/// when it was not streamed to a sink.
struct HTTPResponse: Sendable {
    let status: Int
    let headers: [String: String]
    let url: URL
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Synchronous HTTP over URLSession, one request at a time. Redirects are never followed by
/// URLSession: the caller decides (`follow`), so the hub's metadata request can stop at the CDN
/// redirect, as huggingface_hub does, and the token never goes to another host.
struct HTTPClient: Sendable {
    enum Redirects { case none, relativeOnly, all }
    /// Receives a 2xx body chunk by chunk, with the response's status and headers.
    typealias Sink = (_ head: HTTPResponse, _ chunk: Data) throws -> Void

    static let maximumRedirects = 10
    /// Bodies kept in memory (JSON, error messages); downloads stream to a sink instead.
    static let maximumBufferedBody = 64 << 20

    var token: String?
    /// `host:port` of the server the token belongs to (the endpoint); never sent elsewhere.
    var tokenAuthority: String?
    var timeout: TimeInterval = 30

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
                throw CheckpointError(url.absoluteString, "refused redirect to \(HubNames.quoted(location)) (not an http(s) URL)")
            }
            current = next
        }
        throw CheckpointError(url.absoluteString, "refused: more than \(Self.maximumRedirects) redirects")
    }

    static func authority(of url: URL) -> String? {
        guard let host = url.host?.lowercased() else { return nil }
        return "\(host):\(url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80))"
    }

    private func perform(_ method: String, _ url: URL, headers: [String: String],
                         sink: Sink?) throws -> HTTPResponse {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.setValue("lsg-convert", forHTTPHeaderField: "User-Agent")
        // The real size, as huggingface_hub asks: no transparent compression.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        if let token, let tokenAuthority, Self.authority(of: url) == tokenAuthority {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }

        let task = TaskState(sink: sink)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration, delegate: task, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        return try task.wait(url: url)
    }
}

/// The delegate of one data task: records the response, streams or buffers the body, and
/// wakes the waiting caller when the task ends.
private final class TaskState: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private let sink: HTTPClient.Sink?
    private var head: HTTPResponse?
    private var body = Data()
    private var streaming = false
    private var failure: (any Error)?
    private var sinkFailure: (any Error)?

    init(sink: HTTPClient.Sink?) {
        self.sink = sink
    }

    func wait(url: URL) throws -> HTTPResponse {
        done.wait()
        return try lock.withLock {
            if let sinkFailure { throw sinkFailure }
            if let failure {
                let reason = (failure as? URLError).map { "\($0.localizedDescription) (URLError \($0.code.rawValue))" }
                    ?? failure.localizedDescription
                throw CheckpointError(url.absoluteString, "request failed: \(reason)")
            }
            guard let head else { throw CheckpointError(url.absoluteString, "no HTTP response") }
            return HTTPResponse(status: head.status, headers: head.headers, url: head.url, body: body)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock {
            if let response = response as? HTTPURLResponse, let url = response.url ?? dataTask.originalRequest?.url {
                var headers: [String: String] = [:]
                for (key, value) in response.allHeaderFields {
                    if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
                }
                head = HTTPResponse(status: response.statusCode, headers: headers, url: url, body: Data())
            }
            streaming = sink != nil && (200...299).contains(head?.status ?? 0)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let stop: Bool = lock.withLock {
            guard sinkFailure == nil else { return true }
            if streaming, let sink, let head {
                do { try sink(head, data) } catch { sinkFailure = error; return true }
                return false
            }
            body.append(data)
            if body.count > HTTPClient.maximumBufferedBody {
                sinkFailure = CheckpointError(dataTask.originalRequest?.url?.absoluteString ?? "response",
                                              "body larger than \(HTTPClient.maximumBufferedBody) bytes")
                return true
            }
            return false
        }
        if stop { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock {
            if let error, sinkFailure == nil { failure = error }
        }
        done.signal()
    }
}
