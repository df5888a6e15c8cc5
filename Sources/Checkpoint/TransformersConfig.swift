import JSON
import LSGErrors

/// The `config.json` transformers 4.36.2 writes for a config it loaded, which is what the
/// reference's output carries: the family's config class is built from the file
/// (`PretrainedConfig.__init__` keeps its own keys with their defaults and every other key as
/// an attribute; `id2label` keys become integers; `num_labels` becomes `id2label`), then
/// `save_pretrained` writes `to_diff_dict()`: every attribute except those equal to both the
/// `PretrainedConfig` default and the class default. A config written by an older release
/// therefore loses keys such as `"output_attentions": false` and gains the class's newer keys
/// (`position_embedding_type`, `use_cache`, `classifier_dropout`).
public enum TransformersConfig {
    public static let version = "4.36.2"

    /// `PretrainedConfig().to_dict()` in transformers 4.36.2, without `transformers_version`
    /// and `model_type`.
    static let pretrainedDefaults: JSONObject = [
        "return_dict": true, "output_hidden_states": false, "output_attentions": false, "torchscript": false,
        "torch_dtype": nil, "use_bfloat16": false, "tf_legacy_loss": false, "pruned_heads": [:],
        "tie_word_embeddings": true, "is_encoder_decoder": false, "is_decoder": false, "cross_attention_hidden_size": nil,
        "add_cross_attention": false, "tie_encoder_decoder": false, "max_length": 20, "min_length": 0, "do_sample": false,
        "early_stopping": false, "num_beams": 1, "num_beam_groups": 1, "diversity_penalty": 0.0, "temperature": 1.0,
        "top_k": 50, "top_p": 1.0, "typical_p": 1.0, "repetition_penalty": 1.0, "length_penalty": 1.0,
        "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "bad_words_ids": nil, "num_return_sequences": 1,
        "chunk_size_feed_forward": 0, "output_scores": false, "return_dict_in_generate": false,
        "forced_bos_token_id": nil, "forced_eos_token_id": nil, "remove_invalid_values": false,
        "exponential_decay_length_penalty": nil, "suppress_tokens": nil, "begin_suppress_tokens": nil,
        "architectures": nil, "finetuning_task": nil, "id2label": ["0": "LABEL_0", "1": "LABEL_1"],
        "label2id": ["LABEL_0": 0, "LABEL_1": 1], "tokenizer_class": nil, "prefix": nil, "bos_token_id": nil,
        "pad_token_id": nil, "eos_token_id": nil, "sep_token_id": nil, "decoder_start_token_id": nil,
        "task_specific_params": nil, "problem_type": nil, "_name_or_path": "",
    ]

    /// Keys `PretrainedConfig.__init__` consumes without keeping them as attributes.
    static let consumedKeys: Set<String> = ["num_labels", "xla_device", "name_or_path", "_commit_hash", "attn_implementation"]

    /// `problem_type` values `PretrainedConfig.__init__` accepts.
    static let problemTypes: Set<String> = ["regression", "single_label_classification", "multi_label_classification"]

    /// The config transformers saves after loading `source` into the family's config class
    /// (the LSG settings, which the LSG class adds, are not in it: they are always written).
    /// Throws where transformers refuses the file.
    public static func saved(_ source: JSONObject, family: ModelFamily) throws(LSGError) -> JSONObject {
        var classDefaults = family.facts.configClassDefaults
        let labelCount = family.facts.configDefaultLabelCount
        if labelCount != 2 {
            classDefaults["id2label"] = .object(JSONObject((0..<labelCount).map { ("\($0)", .string("LABEL_\($0)")) }))
            classDefaults["label2id"] = .object(JSONObject((0..<labelCount).map { ("LABEL_\($0)", .int($0)) }))
        }
        let renamed = family.facts.configAttributeMap
        var attributes = JSONObject()
        for (key, value) in classDefaults {
            attributes[key] = source[key] ?? family.facts.configDerivedDefaults[key].flatMap { source[$0] } ?? value
        }
        for (key, value) in pretrainedDefaults where attributes[key] == nil { attributes[key] = source[key] ?? value }

        switch source["id2label"] {
        case nil, .null?:
            let count: Int
            switch source["num_labels"] {
            case nil, .null?: count = labelCount
            case .int(let labels)? where labels >= 0: count = labels
            case let other?: throw LSGError(.malformed, "\"num_labels\" is \(other.compactString()), not a number of labels")
            }
            attributes["id2label"] = .object(JSONObject((0..<count).map { ("\($0)", .string("LABEL_\($0)")) }))
            attributes["label2id"] = .object(JSONObject((0..<count).map { ("LABEL_\($0)", .int($0)) }))
        case .object(let labels)?:
            var normalized = JSONObject()
            for (key, label) in labels {
                guard let index = Int(key.trimmingPythonWhitespace) else {
                    throw LSGError(.malformed, "\"id2label\" key \(JSONValue.string(key).compactString()) is not an integer")
                }
                normalized[String(index)] = label
            }
            attributes["id2label"] = .object(normalized)
            // Only a missing id2label builds label2id; otherwise it is what the file says, or None.
            attributes["label2id"] = source["label2id"] ?? .null
        case let other?:
            throw LSGError(.malformed, "\"id2label\" is a JSON \(other.typeName), expected an object (transformers: \"Argument id2label should be a dictionary\")")
        }
        if let labels = source["label2id"], labels != .null, labels.objectValue == nil {
            throw LSGError(.malformed, "\"label2id\" is a JSON \(labels.typeName), expected an object (transformers: \"Argument label2id should be a dictionary\")")
        }
        if case .string(let problem)? = source["problem_type"], !problemTypes.contains(problem) {
            throw LSGError(.malformed, "\"problem_type\" '\(problem)' is not one of \(problemTypes.sorted().joined(separator: ", ")) (transformers refuses it too)")
        }
        if let name = source["name_or_path"], name != .null { attributes["_name_or_path"] = name }

        for (key, value) in source where attributes[key] == nil && !consumedKeys.contains(key) && key != "transformers_version" {
            attributes[renamed[key] ?? key] = value
        }
        for (key, target) in renamed where source[key] != nil && source[key] != .null { attributes[target] = source[key] }
        // The model consumes a true `gradient_checkpointing` (`_backward_compatibility_gradient_checkpointing`).
        if attributes["gradient_checkpointing"].map(pythonTruthy) == true { attributes["gradient_checkpointing"] = nil }
        attributes["model_type"] = .string(family.modelType)
        attributes["transformers_version"] = .string(version)

        var saved = JSONObject()
        for (key, value) in attributes {
            let pretrained = pretrainedDefaults[key]
            let classValue = classDefaults[key] ?? pretrained
            let keep = pretrained == nil || key == "transformers_version" || !pythonEqual(value, pretrained!)
                || (classValue.map { !pythonEqual(value, $0) } ?? false)
            if keep { saved[key] = value }
        }
        return saved
    }

    /// Python's `==` on values json.loads made: numbers compare by value across bool, int and
    /// float; dicts regardless of order.
    static func pythonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(pythonEqual)
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { entry in y[entry.key].map { pythonEqual(entry.value, $0) } ?? false }
        default:
            if let x = numeric(a), let y = numeric(b) { return x == y }
            return a == b
        }
    }

    private static func numeric(_ value: JSONValue) -> Double? {
        switch value {
        case .bool(let flag): flag ? 1 : 0
        case .int, .double: value.doubleValue
        case .bigInteger(let digits): Double(digits)
        default: nil
        }
    }

    private static func pythonTruthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let flag): flag
        case .int(let number): number != 0
        case .bigInteger: true
        case .double(let number): number != 0
        case .string(let text): !text.isEmpty
        case .array(let items): !items.isEmpty
        case .object(let object): !object.isEmpty
        }
    }
}

extension ModelConfig {
    /// This config as transformers would save it after loading it (`TransformersConfig.saved`);
    /// `name` is the file named in errors.
    public func savedByTransformers(name: String) throws -> ModelConfig {
        guard let family else { return self }
        let saved: JSONObject
        do {
            saved = try TransformersConfig.saved(json, family: family)
        } catch {
            throw LSGError(error.kind, file: name, error.problem)
        }
        return try ModelConfig(json: .object(saved), name: name)
    }
}

private extension String {
    /// Python's `int(str)` accepts surrounding whitespace.
    var trimmingPythonWhitespace: Substring {
        let whitespace: Set<Character> = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}"]
        var slice = Substring(self)
        while let first = slice.first, whitespace.contains(first) { slice.removeFirst() }
        while let last = slice.last, whitespace.contains(last) { slice.removeLast() }
        return slice
    }
}
