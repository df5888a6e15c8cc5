import Foundation
import LSGErrors

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when released.
public final class MappedFile: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer

    /// Opens and maps `path`; only regular files. An empty file is not mapped (mmap refuses a
    /// zero length): its `bytes` are empty.
    public convenience init(path: String) throws(LSGError) {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (fstat then refuses it).
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw LSGError(.io, file: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        try self.init(descriptor: descriptor, name: path)
    }

    /// Maps the regular file open as `descriptor` (the caller closes it; the mapping stays);
    /// `name` is used in errors.
    public init(descriptor: Int32, name path: String) throws(LSGError) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw LSGError(.io, file: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw LSGError(.io, file: path, "not a regular file")
        }
        let size = Int(status.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw LSGError(.io, file: path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the pages of `range` from this process's resident set; the page cache keeps them,
    /// and reading the range again maps them back (the mapping is private and never written).
    /// Whole pages are dropped, so a neighbouring range sharing an edge page may fault it again.
    public func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        let end = min((range.upperBound + page - 1) / page * page, bytes.count)
        guard end > start else { return }
        // Errors are ignored: release only lowers memory use, never changes what is read.
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}

/// A whole file's bytes: mapped from disk, or an image already in memory.
public enum FileBytes: Sendable {
    case mapped(MappedFile)
    case inMemory(Data)

    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .mapped(let file): return try body(file.bytes)
        case .inMemory(let data): return try data.withUnsafeBytes(body)
        }
    }

    /// Drops the pages of `range` from the resident set when mapped (see `MappedFile.release`);
    /// does nothing for an image in memory.
    public func release(_ range: Range<Int>) {
        if case .mapped(let file) = self { file.release(range) }
    }
}
