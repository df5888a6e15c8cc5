import Checkpoint
import Foundation

/// The `README.md` of a converted model, in the structure of the published LSG cards: what the
/// model is, how to load it, its LSG parameters and what they do, then how it was made (base
/// model, tool version, the command that reproduces it) and what the validation found. It
/// describes the output only, so the same model from a `.bin` or a safetensors source gets the
/// same card.
public struct ModelCard: Sendable {
    public var baseModel: String
    /// Whether `baseModel` is a hub name (else a local directory, not linked or put in metadata).
    public var baseModelIsHubName: Bool
    public var baseRevision: String?
    public var family: ModelFamily
    public var architecture: Architecture
    public var maxLength: Int
    /// Rows of the source position table, without the offset rows.
    public var sourcePositions: Int?
    public var lsg: LSGConfig
    public var modelingCode: LinkModelingCodeStage.Origin?
    /// Whether the local module `auto_map` names was copied into the output (`--modeling-file`).
    public var modelingFileIncluded: Bool
    public var toolVersion: String
    /// The git commit the tool was built from, when known.
    public var toolCommit: String?
    /// The OpenBLAS kernel and configuration the validation ran on.
    public var blasKernel: String
    public var blasConfig: String
    public var command: String
    public var recipe: String
    /// Warnings of the conversion (e.g. heads initialised at random).
    public var warnings: [String]
    /// Validation lines; empty when no validation ran.
    public var validation: [String]
    public var validationSkippedBecause: String?
    /// How the model is named in the usage examples (the output directory's name).
    public var modelName: String

    public static let fileName = "README.md"

    /// The transformers Auto class for the converted architecture.
    public var autoClass: String { architecture.head.autoClass }

    var pipelineTag: String? {
        switch architecture.head {
        case _ where family.facts.modelCard.untaggedHeads.contains(architecture.head): return nil
        case .maskedLM, .preTraining: return "fill-mask"
        case .sequenceClassification: return "text-classification"
        case .tokenClassification: return "token-classification"
        case .questionAnswering: return "question-answering"
        case .causalLM: return "text-generation"
        case .conditionalGeneration: return "text2text-generation"
        case .base, .multipleChoice: return nil
        }
    }

    public var markdown: String {
        var lines: [String] = ["---"]
        if baseModelIsHubName { lines.append("base_model: \(Self.yamlString(baseModel))") }
        if let pipelineTag { lines.append("pipeline_tag: \(pipelineTag)") }
        lines += ["tags:", "- \(family.rawValue)", "- lsg", "- long context", "---", ""]

        lines += [
            "# \(modelName)", "",
            "**Transformers >= 4.36.1.** This model relies on custom modeling code: load it with `trust_remote_code=True`.", "",
            "LSG attention: [arXiv 2210.15497](https://arxiv.org/abs/2210.15497).", "",
            "This model is \(baseModelReference) converted by lsg-convert \(toolVersion) to handle sequences of up to "
                + "\(maxLength) tokens with Local + Sparse + Global attention (LSG), **without additional pretraining**: same "
                + "number of parameters and layers, same tokenizer. Only the position table is extended "
                + "(\(sourcePositions.map { "tiled from \($0) to \(maxLength) positions" } ?? "to \(maxLength) positions")) and "
                + "global-token embeddings are added.", "",
            "LSG handles long sequences faster and with less memory than full attention, Longformer or BigBird. The sequence "
                + "length must be a multiple of the block size (\(lsg.blockSize)); with `adaptive=True` (the default in "
                + "`config.json`) the model pads automatically. Truncate with the tokenizer (`truncation=True`) and optionally "
                + "pad to a multiple of the block size (`pad_to_multiple_of=\(lsg.blockSize)`). Implemented in PyTorch.", "",
        ]

        lines += ["## Usage", "", "The model relies on custom modeling code, so add `trust_remote_code=True`:", "", "```python",
                  "from transformers import \(autoClass), AutoTokenizer", "",
                  "model = \(autoClass).from_pretrained(\"\(modelName)\", trust_remote_code=True)",
                  "tokenizer = AutoTokenizer.from_pretrained(\"\(modelName)\")", "```", ""]
        switch modelingCode {
        case .hub(let repository, let module)?:
            lines += ["`auto_map` in `config.json` points at `\(module).py` in the hub repository "
                + "[\(repository)](https://huggingface.co/\(repository)); transformers downloads it on first load. To use a "
                + "local copy instead, convert again with `--modeling-file path/to/\(module).py`.", ""]
        case .localFile(let module)? where modelingFileIncluded:
            lines += ["`auto_map` in `config.json` points at `\(module).py`, included in this directory.", ""]
        case .localFile(let module)?:
            lines += ["`auto_map` in `config.json` points at `\(module).py`, which this directory does not include (no public "
                + "hub repository is known to hold it): copy the reference's `\(module).py` (PyPI `lsg-converter`) beside "
                + "`config.json`, or convert again with `--modeling-file path/to/\(module).py`.", ""]
        case nil:
            break
        }
        if pipelineTag == "fill-mask" {
            lines += ["```python", "from transformers import pipeline", "",
                      "fill = pipeline(\"fill-mask\", model=model, tokenizer=tokenizer)",
                      "print(fill(f\"\(family.facts.modelCard.fillMaskExample)\"))",
                      "```", ""]
        }

        lines += ["## Parameters", "",
                  "These are the values in `config.json`; each can be overridden at load time.", "",
                  "| Parameter | Value |", "| --- | --- |"]
        // The published cards list the global-token count first.
        let settings = [LSGSetting.numGlobalTokens] + LSGSetting.all(hasDecoder: lsg.hasDecoder).filter { $0 != .numGlobalTokens }
        let parameters = settings.map { ($0.key, Self.markdown($0.value(in: lsg))) }
            + [("max_position_embeddings", "\(family.facts.maxPositionEmbeddings(maxLength: maxLength))")]
        lines += parameters.map { "| `\($0.0)` | \($0.1) |" }
        lines += ["",
                  "The defaults work well in practice. Short on memory: reduce the block sizes, increase the sparsity factor and "
                    + "drop dropout on the attention scores. `mask_first_token=True` masks the first token, which is redundant with "
                    + "the first global token.", "",
                  "```python",
                  "model = \(autoClass).from_pretrained(\"\(modelName)\", trust_remote_code=True,",
                  "    num_global_tokens=16, block_size=64, sparse_block_size=64, sparsity_factor=4,",
                  "    attention_probs_dropout_prob=0.0, sparsity_type=\"none\", mask_first_token=True)",
                  "```", ""]

        lines += ["## Sparse selection types", "",
                  "If `sparse_block_size=0` or `sparsity_type=\"none\"`, only local attention is used. For sequences shorter than "
                    + "2 × `block_size` the type has no effect (full attention). Which type works best depends on the task.", "",
                  "- `bos_pooling`: each group of `sparsity_factor` tokens is pooled with weights from the first (BOS) token; "
                    + "works well with large factors (8, 16, 32).",
                  "- `norm`: keeps the keys of highest norm in each chunk.",
                  "- `pooling`: averages each group of `sparsity_factor` tokens.",
                  "- `lsh`: LSH clustering of similar tokens, good for factors of 4 and more; random projections make inference "
                    + "vary with the seed; extra parameter `lsh_num_pre_rounds`.",
                  "- `stride`: each head takes every `sparsity_factor`-th token, offset by the head; not recommended when the "
                    + "factor exceeds the number of heads.",
                  "- `block_stride`: each head takes blocks of tokens strided by the factor; same caveat.", "",
                  "To see which keys each query attends to with these settings:", "", "```bash",
                  "lsg-convert pattern --max-length \(maxLength) --block-size \(lsg.blockSize) --sparse-block-size \(lsg.sparseBlockSize) "
                    + "--sparsity-factor \(lsg.sparsityFactor) --sparsity-type \(lsg.sparsityType.rawValue) "
                    + "--num-global-tokens \(lsg.numGlobalTokens)\(lsg.maskFirstToken ? " --mask-first-token" : "") --out pattern.svg",
                  "```", ""]

        lines += ["## Conversion", "",
                  "- Base model: `\(baseModel)`" + (baseRevision.map { " (revision `\($0)`)" } ?? ""),
                  "- Architecture: `\(architecture.lsgClassName)`",
                  "- Tool: lsg-convert \(toolVersion)" + (toolCommit.map { " (commit `\($0)`)" } ?? "") + ", recipe `\(recipe)`",
                  "- BLAS: OpenBLAS kernel `\(blasKernel)` (`\(blasConfig)`)", "",
                  "Command (reproduces this directory):", "", "```bash", command, "```", ""]
        if !warnings.isEmpty { lines += ["Warnings:", ""] + warnings.map { "- \($0)" } + [""] }

        lines += ["## Validation", ""]
        if validation.isEmpty {
            lines += ["Not validated: \(validationSkippedBecause ?? "no validation stage ran").", ""]
        } else {
            lines += validation.map { "- \($0)" } + [""]
        }

        lines += ["## Citation", "",
                  "LSG attention: Charles Condevaux and Sébastien Harispe, *LSG Attention: Extrapolation of pretrained "
                    + "Transformers to long sequences*, PAKDD 2023, [arXiv 2210.15497](https://arxiv.org/abs/2210.15497).", "",
                  "Base model: \(baseCitation)", ""]
        return lines.joined(separator: "\n")
    }

    private var baseModelReference: String {
        baseModelIsHubName ? "[\(baseModel)](https://huggingface.co/\(baseModel))" : "`\(baseModel)`"
    }

    private var baseCitation: String { family.facts.modelCard.citation }

    /// A setting's value as the card's table shows it (Python literals for booleans and names).
    static func markdown(_ value: LSGSettingValue) -> String {
        switch value {
        case .bool(let flag): return flag ? "`True`" : "`False`"
        case .integer(let number): return "\(number)"
        case .sparsityType(let type): return "`\(type.rawValue)`"
        }
    }

    /// A YAML scalar: plain when safe, else double-quoted.
    static func yamlString(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./".unicodeScalars.contains($0)) }
        if plain && !text.isEmpty { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
