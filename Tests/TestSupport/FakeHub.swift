import Crypto
import Foundation
import JSON

/// A fake Hugging Face hub on loopback serving one model repository the way the real hub does:
/// `GET /api/models/{repo}/revision/{revision}` (commit `sha` and `siblings`), `HEAD`/`GET
/// /{repo}/resolve/{revision}/{file}` with `X-Repo-Commit` and `ETag` (the git blob sha1) for
/// regular files, and for LFS files `X-Linked-Etag` (the sha256), `X-Linked-Size` and a 302 to
/// `/cdn/<sha256>`, which honours `Range: bytes=N-`. Unknown repositories, revisions and files
/// get 404 with the hub's `X-Error-Code`. With a token, requests without `Authorization:
/// Bearer <token>` get 401 (except CDN downloads). `tamper` rewrites any response, to play a hostile or broken server.
public final class FakeHub: @unchecked Sendable {
    public typealias Request = FakeHTTPServer.Request
    public typealias Response = FakeHTTPServer.Response

    public let repository: String
    public let commit: String
    public let files: [String: Data]
    public let lfsFiles: Set<String>
    public let token: String?
    public private(set) var server: FakeHTTPServer!
    private let tamper: @Sendable (Request, Response) -> Response

    public init(repository: String, files: [String: Data], commit: String = "0123456789abcdef0123456789abcdef01234567",
                token: String? = nil, tamper: @escaping @Sendable (Request, Response) -> Response = { $1 }) throws {
        self.repository = repository
        self.files = files
        self.commit = commit
        self.token = token
        self.tamper = tamper
        lfsFiles = Set(files.keys.filter { [".safetensors", ".bin", ".model"].contains(where: $0.hasSuffix) })
        server = try FakeHTTPServer { [unowned self] request in
            self.tamper(request, self.respond(to: request))
        }
    }

    /// Serves the files of a directory (e.g. a golden fixture), plus a README.md and .gitattributes
    /// that a conversion does not need.
    public convenience init(repository: String, directory: URL, token: String? = nil,
                            tamper: @escaping @Sendable (Request, Response) -> Response = { $1 }) throws {
        var files: [String: Data] = ["README.md": Data("# \(repository)\n".utf8), ".gitattributes": Data("*.safetensors filter=lfs\n".utf8)]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        try self.init(repository: repository, files: files, token: token, tamper: tamper)
    }

    deinit { server?.stop() }

    public var endpoint: URL { server.baseURL }
    public var requests: [Request] { server.requests }

    public func stop() { server.stop() }

    public static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// The git blob id the hub uses as the ETag of a regular file.
    public static func gitBlobId(_ data: Data) -> String {
        Insecure.SHA1.hash(data: Data("blob \(data.count)\0".utf8) + data).map { String(format: "%02x", $0) }.joined()
    }

    public func etag(of file: String) -> String {
        lfsFiles.contains(file) ? Self.sha256(files[file]!) : Self.gitBlobId(files[file]!)
    }

    private func error(_ status: Int, _ code: String, _ message: String) -> Response {
        Response(status: status, headers: [("X-Error-Code", code), ("X-Error-Message", message)], body: Data("{\"error\":\"\(message)\"}".utf8))
    }

    private func respond(to request: Request) -> Response {
        // CDN links are signed: they need no token, as on the real hub.
        if let token, !request.path.hasPrefix("/cdn/"), request.headers["authorization"] != "Bearer \(token)" {
            return error(401, "RepositoryNotFound", "Invalid credentials in Authorization header")
        }
        let path = request.path
        if path.hasPrefix("/cdn/") { return cdn(String(path.dropFirst(5)), request) }
        let apiPrefix = "/api/models/\(repository)/revision/"
        if request.method == "GET", path.hasPrefix(apiPrefix) {
            guard knows(revision: String(path.dropFirst(apiPrefix.count))) else {
                return error(404, "RevisionNotFound", "Invalid rev id")
            }
            let siblings = files.keys.sorted().map { "{\"rfilename\":\(Self.jsonString($0))}" }.joined(separator: ",")
            let body = "{\"id\":\(Self.jsonString(repository)),\"sha\":\"\(commit)\",\"siblings\":[\(siblings)]}"
            return Response(status: 200, headers: [("Content-Type", "application/json")], body: Data(body.utf8))
        }
        let resolvePrefix = "/\(repository)/resolve/"
        guard path.hasPrefix(resolvePrefix) else { return error(404, "RepositoryNotFound", "Repository not found") }
        let rest = path.dropFirst(resolvePrefix.count)
        guard let slash = rest.firstIndex(of: "/") else { return error(404, "EntryNotFound", "Entry not found") }
        guard knows(revision: String(rest[..<slash])) else { return error(404, "RevisionNotFound", "Invalid rev id") }
        let file = String(rest[rest.index(after: slash)...])
        guard let data = files[file] else { return error(404, "EntryNotFound", "Entry not found") }
        if lfsFiles.contains(file) {
            let sha = Self.sha256(data)
            return Response(status: 302, headers: [
                ("X-Repo-Commit", commit), ("X-Linked-Etag", "\"\(sha)\""), ("X-Linked-Size", "\(data.count)"),
                ("ETag", "\"\(Self.gitBlobId(Data(sha.utf8)))\""), ("Location", "\(endpoint.absoluteString)/cdn/\(sha)?signature=x"),
            ])
        }
        var response = ranged(data, request)
        response.headers += [("X-Repo-Commit", commit), ("ETag", "\"\(Self.gitBlobId(data))\"")]
        return response
    }

    private func cdn(_ sha: String, _ request: Request) -> Response {
        guard let data = files.values.first(where: { Self.sha256($0) == sha }) else {
            return Response(status: 404, body: Data("NoSuchKey".utf8))
        }
        var response = ranged(data, request)
        response.headers.append(("ETag", "\"\(sha)\""))
        return response
    }

    /// 200 with the whole body, or 206 for `Range: bytes=N-`.
    private func ranged(_ data: Data, _ request: Request) -> Response {
        guard let range = request.headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
              let start = Int(range.dropFirst(6).dropLast()) else {
            return Response(status: 200, body: data)
        }
        guard start < data.count else {
            return Response(status: 416, headers: [("Content-Range", "bytes */\(data.count)")])
        }
        return Response(status: 206, headers: [("Content-Range", "bytes \(start)-\(data.count - 1)/\(data.count)")],
                        body: data.subdata(in: start..<data.count))
    }

    private func knows(revision: String) -> Bool { revision == "main" || revision == commit }

    private static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
