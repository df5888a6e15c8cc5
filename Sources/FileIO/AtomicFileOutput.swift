import CFileWriteback
import Foundation
import LSGErrors

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A buffered file written under a temporary name in the target's directory and renamed onto
/// the target only by `commit()`, so the target is either complete or untouched. Released
/// without a commit, the temporary file is removed.
public final class AtomicFileOutput {
    public let target: URL
    let temporaryPath: String
    private var descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    public private(set) var bytesWritten = 0
    private var committed = false
    // Bytes handed to the kernel, and how many of them it was told to start writing to disk.
    private var bytesFlushed = 0
    private var writebackRequested = 0

    private static let bufferSize = 1 << 20
    private static let writebackStep = 32 << 20

    public init(target: URL) throws {
        self.target = target
        let directory = target.deletingLastPathComponent().path
        temporaryPath = TemporaryName.beside(target, suffix: "tmp").path
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw LSGError(.io, file: target.path, "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporaryPath) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += bytes.count
        if buffered + bytes.count <= buffer.count {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<(buffered + bytes.count)]).copyMemory(from: bytes)
            buffered += bytes.count
            return
        }
        try flush()
        if bytes.count >= buffer.count {
            try writeAll(bytes)
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count]).copyMemory(from: bytes)
            buffered = bytes.count
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    private func flush() throws {
        guard buffered > 0 else { return }
        try writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]))
        buffered = 0
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        try RegularFile.write(bytes, to: descriptor, file: target.path)
        bytesFlushed += bytes.count
        // Without this the final fsync writes the whole file back on one core while the other
        // waits; started as we go, writeback overlaps the hashing and writing still to come.
        // A failure here is only a lost hint: fsync in `finish` reports real write errors.
        if bytesFlushed - writebackRequested >= Self.writebackStep {
            _ = lsg_start_writeback(descriptor, Int64(writebackRequested), Int64(bytesFlushed - writebackRequested))
            writebackRequested = bytesFlushed
        }
    }

    /// Flushes, syncs, closes; the file stays under its temporary name until `rename()`.
    public func finish() throws {
        try flush()
        guard fsync(descriptor) == 0 else {
            throw LSGError(.io, file: target.path, "cannot sync: \(String(cString: strerror(errno)))")
        }
        let result = close(descriptor)
        descriptor = -1
        guard result == 0 else {
            throw LSGError(.io, file: target.path, "cannot close: \(String(cString: strerror(errno)))")
        }
    }

    /// Moves the finished temporary file onto the target.
    public func rename() throws {
        guard Foundation.rename(temporaryPath, target.path) == 0 else {
            throw LSGError(.io, file: target.path, "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
        }
        committed = true
    }
}
