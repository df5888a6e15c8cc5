extension ModelConfig {
    /// `id2label` as transformers' `PretrainedConfig` reads it: keys made integers; without
    /// the key, `LABEL_0` ... for `num_labels` (default 2) labels.
    public var labels: [Int: String] {
        if case .object(let entries)? = json["id2label"] {
            var labels: [Int: String] = [:]
            for (key, value) in entries {
                guard let id = Int(key), let label = value.stringValue else { continue }
                labels[id] = label
            }
            return labels
        }
        let count = json["num_labels"]?.intValue ?? 2
        return Dictionary(uniqueKeysWithValues: (0..<max(count, 0)).map { ($0, "LABEL_\($0)") })
    }

    /// `problem_type`: `single_label_classification`, `multi_label_classification` or `regression`.
    public var problemType: String? { json["problem_type"]?.stringValue }

    /// The architecture `architectures` names first, when it is one of the family's.
    public var namedArchitecture: Architecture? {
        guard let family, let name = architectures?.first else { return nil }
        return family.architecture(named: name)
    }
}
