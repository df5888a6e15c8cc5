import Checkpoint
import Foundation
import LSGErrors

/// Checks on every name that reaches a path or a URL: repository ids and revisions from the
/// user, file names, commit hashes and etags from the server. A name that could leave the cache
/// directory (`..`, absolute, backslash, NUL, control characters) is refused.
enum HubNames {
    /// `org/name` or `name`: letters, digits, `-`, `_`, `.`; no `..`; at most 96 characters a part.
    static func isRepositoryId(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 96 && !part.contains("..") && !part.hasPrefix(".") && !part.hasPrefix("-")
                && part.unicodeScalars.allSatisfy { $0.isASCII && (isAlphanumeric($0) || "-_.".unicodeScalars.contains($0)) }
        }
    }

    /// A relative path of plain components (`dir/file.json`), as a repository file list or a
    /// branch name may hold.
    static func isRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 1024, !path.hasPrefix("/") else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component != "." && component != ".."
                && component.unicodeScalars.allSatisfy { $0 != "\\" && $0 != ":" && $0.value >= 0x20 && $0.value != 0x7F }
        }
    }

    /// An etag used as a blob file name: letters, digits, `-`, `_`, `.`, not starting with a dot.
    static func isBlobName(_ etag: String) -> Bool {
        !etag.isEmpty && etag.utf8.count <= 128 && !etag.hasPrefix(".")
            && etag.unicodeScalars.allSatisfy { $0.isASCII && (isAlphanumeric($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// A sha256 etag (64 lowercase hex digits): the hub gives LFS files their sha256 as etag.
    static func isSHA256(_ etag: String) -> Bool {
        etag.utf8.count == 64 && etag.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// `ETag: W/"abc"` or `"abc"` -> `abc`, as huggingface_hub normalises it.
    static func normalizeETag(_ value: String) -> String {
        var text = Substring(value.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        return String(text).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// A server-provided string made safe for a one-line message.
    static func quoted(_ text: String) -> String {
        let escaped = text.unicodeScalars.prefix(200).map { scalar -> String in
            scalar.value < 0x20 || scalar.value == 0x7F ? String(format: "\\x%02x", scalar.value) : String(scalar)
        }.joined()
        return "'\(escaped)\(text.unicodeScalars.count > 200 ? "..." : "")'"
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}

/// The standard hub cache layout of one repository (`models--org--name`), as huggingface_hub
/// and transformers use it: `blobs/<etag>`, `snapshots/<commit>/<file>` (relative symlinks to
/// the blobs), `refs/<revision>` (the commit), `.no_exist/<commit>/<file>` (known absent files).
struct HubCacheLayout {
    let repository: URL

    var blobs: URL { repository.appendingPathComponent("blobs", isDirectory: true) }

    func blob(_ etag: String) -> URL { blobs.appendingPathComponent(etag) }
    func incompleteBlob(_ etag: String) -> URL { blobs.appendingPathComponent(etag + ".incomplete") }
    func snapshot(_ commit: String) -> URL {
        repository.appendingPathComponent("snapshots", isDirectory: true).appendingPathComponent(commit, isDirectory: true)
    }
    func ref(_ revision: String) -> URL { repository.appendingPathComponent("refs").appendingPathComponent(revision) }
    /// `<cache>/.locks/models--org--name/<etag>.lock`, the lock huggingface_hub takes around a blob
    /// download (flock), so concurrent downloads of the same blob, ours or Python's, wait for each other.
    func lock(_ etag: String) -> URL {
        repository.deletingLastPathComponent().appendingPathComponent(".locks")
            .appendingPathComponent(repository.lastPathComponent).appendingPathComponent(etag + ".lock")
    }
    func noExist(_ commit: String, _ file: String) -> URL {
        repository.appendingPathComponent(".no_exist").appendingPathComponent(commit).appendingPathComponent(file)
    }

    /// The link target from `snapshots/<commit>/<file>` to `blobs/<etag>`, relative so the cache
    /// can be moved.
    static func linkTarget(file: String, etag: String) -> String {
        let depth = file.split(separator: "/").count - 1
        return String(repeating: "../", count: 2 + depth) + "blobs/" + etag
    }

    /// Defence in depth: every path written must lie inside the repository folder.
    func checkInside(_ url: URL) throws {
        let root = repository.standardizedFileURL.path
        let path = url.standardizedFileURL.path
        guard path.hasPrefix(root + "/") else {
            throw LSGError(.network, file: path, "refused: outside the cache folder \(root)")
        }
    }
}
