import Foundation
import LSGErrors

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The temporary directory a conversion builds its output in, beside the output, and the lock
/// file that proves whose it is:
///
///     .<output name>.partial-<pid>        the output being built
///     .<output name>.partial-<pid>.lock   "lsg-convert staging directory", pid, output path;
///                                         flock-ed by the run for as long as it lives
///
/// `commit()` renames the directory onto the output: the only step that makes an output
/// visible. `discard()` (failure, SIGINT, SIGTERM) removes both. A run killed outright
/// (SIGKILL, power loss) leaves them behind, but its flock dies with it, so the next run into
/// the same output can prove they are stale and remove them (`removeStale(for:)`). Nothing
/// without a lock file that says so, and that no living process holds, is ever removed.
final class OutputStaging: @unchecked Sendable {
    static let lockSignature = "lsg-convert staging directory"

    let output: URL
    let directory: URL
    let lockFile: URL

    private enum State { case building, committed, discarded }
    private let lock = NSLock()
    private var state = State.building
    private var lockDescriptor: Int32

    /// Creates and locks the lock file, then the staging directory.
    init(output: URL) throws {
        let parent = output.deletingLastPathComponent()
        let name = "\(Self.prefix(of: output))\(getpid())"
        self.output = output
        directory = parent.appendingPathComponent(name)
        lockFile = parent.appendingPathComponent(name + ".lock")

        let descriptor = open(lockFile.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            throw LSGError(.io, "\(lockFile.path): cannot create the staging lock (\(String(cString: strerror(errno))))")
        }
        lockDescriptor = descriptor
        // Lock before writing the signature: a file without it is never taken for a stale one.
        let text = "\(Self.lockSignature)\npid \(getpid())\noutput \(output.path)\n"
        guard flock(descriptor, LOCK_EX) == 0, write(descriptor, text, text.utf8.count) == text.utf8.count else {
            let problem = String(cString: strerror(errno))
            close(descriptor)
            unlink(lockFile.path)
            throw LSGError(.io, "\(lockFile.path): cannot write the staging lock (\(problem))")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        } catch {
            close(descriptor)
            unlink(lockFile.path)
            throw LSGError(.io, "\(directory.path): cannot create the staging directory (\(error.localizedDescription))")
        }
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    /// `.<output name>.partial-`: every staging name of `output` starts with it.
    static func prefix(of output: URL) -> String { ".\(output.lastPathComponent).partial-" }

    /// Moves the finished directory onto the output. An existing output (`--force`) is moved
    /// aside first and removed only once the new one is in place.
    func commit() throws {
        try lock.withLock {
            guard state == .building else { throw LSGError(.internal, "\(output.path): conversion interrupted") }
            let aside = Self.replacedName(directory)
            var replaced = false
            if FileManager.default.fileExists(atPath: output.path) {
                guard rename(output.path, aside.path) == 0 else {
                    throw LSGError(.io, "\(output.path): cannot move the old output aside (\(String(cString: strerror(errno))))")
                }
                replaced = true
            }
            guard rename(directory.path, output.path) == 0 else {
                let problem = String(cString: strerror(errno))
                if replaced { rename(aside.path, output.path) }
                throw LSGError(.io, "\(output.path): cannot move the finished output into place (\(problem))")
            }
            state = .committed
            if replaced { try? FileManager.default.removeItem(at: aside) }
            releaseLock()
        }
    }

    /// Removes the staging directory and the lock file; false when there was nothing to do
    /// (committed or already discarded). Safe to call from the signal handler while the
    /// conversion thread is still writing: the directory is first renamed, so the writer's next
    /// path fails instead of recreating files in it.
    @discardableResult
    func discard() -> Bool {
        lock.withLock {
            guard state == .building else { return false }
            state = .discarded
            let doomed = URL(fileURLWithPath: directory.path + ".removing")
            if rename(directory.path, doomed.path) == 0 {
                try? FileManager.default.removeItem(at: doomed)
            } else {
                try? FileManager.default.removeItem(at: directory)
            }
            releaseLock()
            return true
        }
    }

    private func releaseLock() {
        unlink(lockFile.path)
        close(lockDescriptor)
        lockDescriptor = -1
    }

    /// Where `commit()` moves an existing output while the new one takes its place.
    private static func replacedName(_ staging: URL) -> URL {
        URL(fileURLWithPath: staging.path.replacingOccurrences(of: ".partial-", with: ".replaced-",
                                                                options: [.backwards], range: nil))
    }

    /// Removes what dead runs into `output` left behind: for each `<prefix><pid>.lock` that
    /// carries the signature and that nobody holds, its staging directory (and one being
    /// removed); an old output it had moved aside is put back when the output is missing (the
    /// run died between the two renames of `commit()`), else removed. Returns one line per
    /// directory handled.
    static func removeStale(for output: URL) -> [String] {
        let parent = output.deletingLastPathComponent()
        let prefix = prefix(of: output)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return [] }
        var handled: [String] = []
        for name in names.sorted() where name.hasPrefix(prefix) && name.hasSuffix(".lock") {
            let pid = name.dropFirst(prefix.count).dropLast(".lock".count)
            guard !pid.isEmpty, pid.allSatisfy(\.isASCII), pid.allSatisfy(\.isNumber) else { continue }
            let lockURL = parent.appendingPathComponent(name)
            let descriptor = open(lockURL.path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
                  flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }  // alive, or not a lock file
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0, String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix(lockSignature + "\n") else { continue }

            let staging = parent.appendingPathComponent(prefix + pid)
            for url in [staging, URL(fileURLWithPath: staging.path + ".removing")]
            where FileManager.default.fileExists(atPath: url.path) {
                try? FileManager.default.removeItem(at: url)
                handled.append("removed \(url.lastPathComponent), left by a conversion that did not finish (pid \(pid))")
            }
            let aside = replacedName(staging)
            if FileManager.default.fileExists(atPath: aside.path) {
                if !FileManager.default.fileExists(atPath: output.path), rename(aside.path, output.path) == 0 {
                    handled.append("restored \(output.lastPathComponent) from \(aside.lastPathComponent) (pid \(pid) died while replacing it)")
                } else {
                    try? FileManager.default.removeItem(at: aside)
                    handled.append("removed \(aside.lastPathComponent), an output replaced by pid \(pid)")
                }
            }
            unlink(lockURL.path)
        }
        return handled
    }
}

/// Runs registered cleanups when the process gets SIGINT or SIGTERM, then exits with
/// 128 + the signal number.
final class SignalCleanup: @unchecked Sendable {
    static let shared = SignalCleanup()

    private let lock = NSLock()
    private var cleanups: [Int: @Sendable () -> Void] = [:]
    private var nextID = 0
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "lsg-convert.signal-cleanup")

    /// Registers `cleanup`; returns the id that releases it.
    func protect(_ cleanup: @escaping @Sendable () -> Void) -> Int {
        lock.withLock {
            nextID += 1
            cleanups[nextID] = cleanup
            if sources.isEmpty {
                for signalNumber in [SIGINT, SIGTERM] {
                    signal(signalNumber, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                    source.setEventHandler { [unowned self] in
                        let pending = lock.withLock { cleanups.sorted { $0.key > $1.key }.map(\.value) }
                        for cleanup in pending { cleanup() }
                        // _exit: the conversion thread may still be running; skip atexit work.
                        _exit(128 + signalNumber)
                    }
                    source.resume()
                    sources.append(source)
                }
            }
            return nextID
        }
    }

    func release(_ id: Int) {
        _ = lock.withLock { cleanups.removeValue(forKey: id) }
    }
}
