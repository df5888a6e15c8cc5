/// How transformers 4.36 `PreTrainedModel.from_pretrained` fills a model class from a checkpoint's
/// tensors. The reference converter loads every source that way before it changes anything, so
/// its output holds what these rules give. Every rule is one row here, naming the transformers
/// step it mirrors (`modeling_utils.py` unless said otherwise); `ClassStateDict` applies them
/// in transformers' order and records which ones a checkpoint needed.
public enum StateDictRule: String, Sendable, CaseIterable, Hashable {
    /// TF-era LayerNorm names: a name containing `gamma` has it replaced by `weight`, one
    /// containing `beta` has it replaced by `bias` (a name holding both gets only the `beta`
    /// replacement, applied to the original); the renamed tensor replaces any tensor that
    /// already had the new name.
    case legacyNormNames
    /// A checkpoint with no name starting with the base-model prefix (`roberta`, `bert`, ...),
    /// loaded into a task class whose names do: it is loaded into the encoder attribute, so
    /// `embeddings.x` fills `roberta.embeddings.x`.
    case basePrefixAdded
    /// A checkpoint whose names start with the prefix, loaded into the base class whose names
    /// do not: only the names under `<prefix>.` are loaded, without it; the rest is unused.
    case basePrefixStripped
    /// A checkpoint without the prefix that also holds names of the task class's own modules
    /// (a head beside a bare encoder): transformers raises "The state dictionary of the model you
    /// are trying to load is corrupted".
    case corruptedStateDict
    /// Tensors that share one parameter (the decoder tied to the word embeddings when
    /// `tie_word_embeddings`, `lm_head.decoder.bias` and `lm_head.bias`): whichever the
    /// checkpoint holds fills both, and when it holds both the one loaded last wins, which is
    /// the head's (`_load_from_state_dict` walks modules in order, parameters before children).
    case tiedParameters
    /// Names the class does not have (buffers such as `position_ids`, a pooler or head another
    /// class owns) are not loaded (`unexpected_keys`).
    case unexpectedUnused
    /// Names the class has and the checkpoint lacks are initialised at random
    /// (`model._initialize_weights`, after `set_initialized_submodules`): the reference does not
    /// seed torch, so its values cannot be reproduced; we draw ours from `--seed`.
    case missingInitialised

    /// What the rule did, in words, for a conversion summary.
    public var summary: String {
        switch self {
        case .legacyNormNames: "TF-era gamma/beta names read as weight/bias"
        case .basePrefixAdded: "base-model checkpoint loaded into the encoder of a task class"
        case .basePrefixStripped: "task checkpoint's encoder loaded into the base class"
        case .corruptedStateDict: "refused as a corrupted state dict"
        case .tiedParameters: "tied parameters filled from their stored copy"
        case .unexpectedUnused: "names the class lacks left unused"
        case .missingInitialised: "missing names initialised at random"
        }
    }

    /// The transformers 4.36.2 code the rule mirrors.
    public var transformersBehaviour: String {
        switch self {
        case .legacyNormNames: "modeling_utils._load_state_dict_into_model: gamma -> weight, beta -> bias"
        case .basePrefixAdded: "_load_pretrained_model: not has_prefix_module and expects_prefix_module (model_to_load = base model)"
        case .basePrefixStripped: "_load_pretrained_model: has_prefix_module and not expects_prefix_module (start_prefix)"
        case .corruptedStateDict: "_load_pretrained_model: ValueError 'The state dictionary of the model ... is corrupted'"
        case .tiedParameters: "tie_weights() before loading; _load_from_state_dict per module, parent before children"
        case .unexpectedUnused: "_load_pretrained_model: unexpected_keys are not loaded"
        case .missingInitialised: "_load_pretrained_model: missing_keys initialised by model._initialize_weights"
        }
    }

    /// The name a checkpoint tensor is loaded under (`legacyNormNames`), or nil when unchanged.
    public static func modernName(_ name: String) -> String? {
        var renamed: String?
        if name.contains("gamma") { renamed = name.replacingOccurrences(of: "gamma", with: "weight") }
        if name.contains("beta") { renamed = name.replacingOccurrences(of: "beta", with: "bias") }
        return renamed
    }
}

/// Where each tensor of a model class comes from when transformers loads a checkpoint into it.
public struct ClassStateDict: Sendable {
    /// Class tensor name -> checkpoint tensor name, for every tensor the checkpoint fills.
    public let sources: [String: String]
    /// Class tensors no checkpoint tensor fills, in state-dict order (initialised at random).
    public let missing: [String]
    /// Checkpoint tensors the class does not load, in checkpoint order.
    public let unused: [String]
    /// The rules this checkpoint needed, in the order applied.
    public let applied: [StateDictRule]

    /// - Parameters:
    ///   - expected: every name of the class's `state_dict`, in its order, tied names included.
    ///   - tiedGroups: names that share one parameter, in load order.
    ///   - basePrefix: the class's `base_model_prefix` (no dot).
    ///   - checkpoint: the checkpoint's tensor names as loaded (after `legacyNormNames`).
    ///   - identical: whether two checkpoint tensors hold the same bytes; a tied group whose
    ///     stored copies are identical keeps its first name as the source (the result is the same).
    public init(expected: [String], tiedGroups: [[String]], basePrefix: String, checkpoint: [String],
                identical: (String, String) -> Bool = { _, _ in false }) throws(ClassStateDictError) {
        var applied: [StateDictRule] = []
        let hasPrefix = !basePrefix.isEmpty && checkpoint.contains { $0.hasPrefix(basePrefix) }
        let expectsPrefix = !basePrefix.isEmpty && expected.contains { $0.hasPrefix(basePrefix) }
        let dotted = basePrefix + "."
        let checkpointNames = Set(checkpoint)

        // The checkpoint name that would fill a class name, before ties.
        let candidate: (String) -> String?
        if expectsPrefix && !hasPrefix {
            applied.append(.basePrefixAdded)
            let headNames = Set(expected.filter { !$0.hasPrefix(dotted) })
            if let clash = checkpoint.first(where: headNames.contains) {
                throw ClassStateDictError(rule: .corruptedStateDict, name: clash)
            }
            candidate = { name in
                guard name.hasPrefix(dotted) else { return nil }
                let bare = String(name.dropFirst(dotted.count))
                return checkpointNames.contains(bare) ? bare : nil
            }
        } else if hasPrefix && !expectsPrefix {
            applied.append(.basePrefixStripped)
            candidate = { checkpointNames.contains(dotted + $0) ? dotted + $0 : nil }
        } else {
            candidate = { checkpointNames.contains($0) ? $0 : nil }
        }

        var sources: [String: String] = [:]
        for name in expected { sources[name] = candidate(name) }
        for group in tiedGroups where group.allSatisfy(expected.contains) {
            let stored = group.compactMap { sources[$0] }
            guard var winner = stored.last else { continue }
            if let first = stored.first, identical(first, winner) { winner = first }
            if group.contains(where: { sources[$0] != winner }), !applied.contains(.tiedParameters) { applied.append(.tiedParameters) }
            for name in group { sources[name] = winner }
        }
        let loaded = Set(sources.values)
        unused = checkpoint.filter { !loaded.contains($0) }
        missing = expected.filter { sources[$0] == nil }
        if !unused.isEmpty { applied.append(.unexpectedUnused) }
        if !missing.isEmpty { applied.append(.missingInitialised) }
        self.sources = sources
        self.applied = applied
    }
}

public struct ClassStateDictError: Error, Sendable {
    public let rule: StateDictRule
    /// The checkpoint tensor that triggered it.
    public let name: String
}
