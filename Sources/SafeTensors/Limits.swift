/// What the readers accept at most, checked before anything is allocated for the input: a
/// hostile file is refused from its sizes, never read whole first.
public enum SafeTensorsLimits {
    /// Largest safetensors header (the Rust crate's limit).
    public static let maxHeaderBytes = 100_000_000
    /// Most tensors in one safetensors file (real checkpoints hold a few thousand per file).
    public static let maxTensors = 1_000_000
    /// Most dimensions of one tensor (numpy's limit).
    public static let maxRank = 64
}
