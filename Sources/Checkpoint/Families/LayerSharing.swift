/// Which stored layer each of a model's hidden layers runs. Most families store one layer per
/// hidden layer; ALBERT stores `groups` groups of `layersPerGroup` layers, and hidden layer `i`
/// runs every layer of one group (transformers' `AlbertTransformer.forward`).
public struct LayerSharing: Sendable, Hashable {
    public let hiddenLayers: Int
    public let groups: Int
    public let layersPerGroup: Int
    /// The decoder's layers (encoder-decoder families; each has its own weights); nil for encoders.
    public var decoderLayers: Int? = nil

    public init(hiddenLayers: Int, groups: Int, layersPerGroup: Int) {
        self.hiddenLayers = hiddenLayers
        self.groups = groups
        self.layersPerGroup = layersPerGroup
    }

    /// ALBERT's `num_hidden_groups` and `inner_group_num`, without the layer count they serve.
    public struct Groups: Sendable, Hashable {
        public let count: Int
        public let layersPerGroup: Int

        public init(count: Int, layersPerGroup: Int) {
            self.count = count
            self.layersPerGroup = layersPerGroup
        }
    }

    /// `groups` serving `hiddenLayers` layers; nil groups: one stored layer per hidden layer.
    public init(hiddenLayers: Int, groups: Groups?) {
        self.init(hiddenLayers: hiddenLayers, groups: groups?.count ?? hiddenLayers, layersPerGroup: groups?.layersPerGroup ?? 1)
    }

    /// One stored layer per hidden layer.
    public static func unshared(_ hiddenLayers: Int) -> LayerSharing {
        LayerSharing(hiddenLayers: hiddenLayers, groups: nil)
    }

    /// The number of layers a checkpoint stores.
    public var storedLayerCount: Int { groups * layersPerGroup }

    /// The stored layer of every layer the forward pass runs, in order.
    public var schedule: [Int] {
        guard hiddenLayers > 0 else { return [] }
        // transformers computes the group as int(i / (layers / groups)) in floating point.
        let layersPerHiddenGroup = Double(hiddenLayers) / Double(groups)
        return (0..<hiddenLayers).flatMap { layer in
            let group = Int(Double(layer) / layersPerHiddenGroup)
            return (0..<layersPerGroup).map { group * layersPerGroup + $0 }
        }
    }

    /// Why transformers cannot run this sharing, or nil when it can: every group must exist, and
    /// a group cannot hold more layers than the hidden layers it serves (its head-mask slice,
    /// `num_hidden_layers // num_hidden_groups` long, is indexed by the layer within the group).
    public var problem: String? {
        guard hiddenLayers > 0 else { return nil }
        guard groups > 0, layersPerGroup > 0 else {
            return "layer groups (\(groups)) and layers per group (\(layersPerGroup)) must be positive"
        }
        guard layersPerGroup <= hiddenLayers / groups else {
            return "\(groups) layer groups of \(layersPerGroup) layers cannot serve \(hiddenLayers) hidden layers "
                + "(each group serves \(hiddenLayers / groups))"
        }
        return nil
    }
}
