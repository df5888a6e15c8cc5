/// Largest settings documents read whole, checked before reading (see `SafeTensorsLimits` for
/// the weights and other JSON files). Real `config.json` files are a few kilobytes.
public enum CheckpointLimits {
    /// `config.json`, and other small settings documents such as recipes.
    public static let maxConfigBytes = 16 << 20
}
