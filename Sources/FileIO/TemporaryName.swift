import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names for files that exist only while being written: unique to the process (its id) and to
/// the call (a random part), so concurrent writers never collide.
public enum TemporaryName {
    /// `<directory of target>/.<target name>.<pid>.<random>.<suffix>`: hidden, beside the
    /// target, so renaming it onto the target stays on one file system.
    public static func beside(_ target: URL, suffix: String) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(unique).\(suffix)")
    }

    /// `<directory>/<stem>-<pid>-<random>.<extension>`.
    public static func file(in directory: URL, stem: String, extension pathExtension: String) -> URL {
        directory.appendingPathComponent("\(stem)-\(getpid())-\(random).\(pathExtension)")
    }

    private static var unique: String { "\(getpid()).\(random)" }
    private static var random: String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }
}
