import LSGEncoder

/// What `--version` prints and manifests and model cards record: the version (the repository's
/// `VERSION` file, compiled in by the BuildInfo plugin), the git commit built, and the OpenBLAS
/// kernel the encoder runs on.
public enum LSGConvertVersion {
    /// The tool's version, from `VERSION`.
    public static let current = BuildInfo.version

    /// The git commit the binary was built from (`-dirty` with uncommitted changes), or nil when
    /// it was not built from a checkout.
    public static let commit: String? = BuildInfo.commit.isEmpty ? nil : BuildInfo.commit

    /// The `--version` text.
    public static var text: String {
        let blas = BLASLibrary.current
        return [
            "lsg-convert \(current)",
            "commit: \(commit ?? "unknown (not built from a git checkout)")",
            "OpenBLAS: kernel \(blas.coreName) (\(blas.configuration))",
        ].joined(separator: "\n")
    }
}
