import Foundation
import LSGErrors

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads small files whole, safely: only regular files (a FIFO or a device would block or
/// never end), and only up to a size limit checked before reading.
public enum RegularFile {
    /// The bytes of the regular file at `url`; errors are one line naming the file.
    public static func contents(of url: URL, maxBytes: Int) throws(LSGError) -> Data {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: url.path, problem) }
        // O_NONBLOCK: opening a FIFO must not wait for a writer.
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw fail(.io, "cannot read: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw fail(.io, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw fail(.io, "not a regular file") }
        let size = Int(status.st_size)
        guard size <= maxBytes else { throw fail(.limitExceeded, "file is \(size) bytes, more than the limit of \(maxBytes)") }
        var data = Data(count: size)
        var filled = 0
        let failure: String? = data.withUnsafeMutableBytes { buffer in
            while filled < size {
                let count = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if count < 0 {
                    if errno == EINTR { continue }
                    return "cannot read: \(String(cString: strerror(errno)))"
                }
                if count == 0 { return "file shrank while being read" }
                filled += count
            }
            return nil
        }
        if let failure { throw fail(.io, failure) }
        return data
    }

    /// The regular file at `url` as UTF-8 text (read as `contents` reads it).
    public static func text(of url: URL, maxBytes: Int) throws(LSGError) -> String {
        guard let text = String(validating: try contents(of: url, maxBytes: maxBytes), as: UTF8.self) else {
            throw LSGError(.malformed, file: url.path, "is not UTF-8 text")
        }
        return text
    }

    /// Writes all of `bytes` to `descriptor`, again after a short or interrupted write; errors
    /// name `file`.
    public static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, file: String) throws(LSGError) {
        var offset = 0
        while offset < bytes.count {
            let result = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if result < 0 {
                if errno == EINTR { continue }
                throw LSGError(.io, file: file, "cannot write: \(String(cString: strerror(errno)))")
            }
            offset += result
        }
    }

    /// Passes the bytes of the regular file at `url` to `body` in order, `chunkBytes` at a time,
    /// from a read-only mapping whose pages are released after each chunk: no copy through a
    /// read buffer, and one chunk resident whatever the file's size. Errors name the file.
    public static func forEachChunk(
        of url: URL, chunkBytes: Int = 4 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let file = try MappedFile(path: url.path)
        var start = 0
        while start < file.bytes.count {
            let end = min(start + chunkBytes, file.bytes.count)
            try body(UnsafeRawBufferPointer(rebasing: file.bytes[start..<end]))
            file.release(start..<end)
            start = end
        }
    }
}
