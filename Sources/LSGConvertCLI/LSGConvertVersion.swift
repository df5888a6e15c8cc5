/// The tool's version, written into manifests and model cards.
public enum LSGConvertVersion {
    public static let current = "0.1.0"
}
