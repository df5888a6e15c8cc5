/// How large a file the tool reads whole.
public enum FileLimits {
    /// Largest JSON file read whole by default (index, tokenizer files).
    public static let maxJSONFileBytes = 256 << 20
}
