import JSON

/// The `generation_config.json` transformers 4.36.2 saves beside a model that can generate (a
/// causal-LM or sequence-to-sequence class): the source's file when it has one (loaded, then
/// saved again with the current version), else the generation settings of the model's config
/// (`GenerationConfig.from_model_config`, marked `_from_model_config`); in both cases only the
/// values that differ from `GenerationConfig()`'s, as `to_diff_dict` writes them. (Reading the
/// settings greedy generation uses is `GenerationConfig`'s job.)
public enum GenerationConfigFile {
    /// `GenerationConfig().to_dict()` in transformers 4.36.2, without `transformers_version`.
    static let defaults: JSONObject = [
        "_from_model_config": false, "bad_words_ids": nil, "begin_suppress_tokens": nil, "bos_token_id": nil,
        "constraints": nil, "decoder_start_token_id": nil, "diversity_penalty": 0.0, "do_sample": false,
        "early_stopping": false, "encoder_no_repeat_ngram_size": 0, "encoder_repetition_penalty": 1.0,
        "eos_token_id": nil, "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "exponential_decay_length_penalty": nil,
        "force_words_ids": nil, "forced_bos_token_id": nil, "forced_decoder_ids": nil, "forced_eos_token_id": nil,
        "generation_kwargs": [:], "guidance_scale": nil, "length_penalty": 1.0, "low_memory": nil, "max_length": 20,
        "max_new_tokens": nil, "max_time": nil, "min_length": 0, "min_new_tokens": nil, "no_repeat_ngram_size": 0,
        "num_assistant_tokens": 5, "num_assistant_tokens_schedule": "heuristic", "num_beam_groups": 1, "num_beams": 1,
        "num_return_sequences": 1, "output_attentions": false, "output_hidden_states": false, "output_scores": false,
        "pad_token_id": nil, "penalty_alpha": nil, "remove_invalid_values": false, "renormalize_logits": false,
        "repetition_penalty": 1.0, "return_dict_in_generate": false, "sequence_bias": nil, "suppress_tokens": nil,
        "temperature": 1.0, "top_k": 50, "top_p": 1.0, "typical_p": 1.0, "use_cache": true,
    ]

    /// The file's content: from the source's `generation_config.json` (`sourceFile`), else from
    /// the converted model's config.
    public static func saved(sourceFile: JSONObject?, modelConfig: JSONObject) -> JSONObject {
        var values = JSONObject()
        if let sourceFile {
            // Every key of the file is kept as an attribute, known or not.
            for (key, value) in sourceFile where key != "transformers_version" && key != "_commit_hash" { values[key] = value }
        } else {
            // Only the generation parameters of the model config are taken.
            for (key, _) in defaults { if let value = modelConfig[key] { values[key] = value } }
            values["_from_model_config"] = true
        }
        var saved = JSONObject()
        for (key, value) in values {
            if let standard = defaults[key], TransformersConfig.pythonEqual(value, standard) { continue }
            saved[key] = value
        }
        saved["transformers_version"] = .string(TransformersConfig.version)
        return saved
    }
}
