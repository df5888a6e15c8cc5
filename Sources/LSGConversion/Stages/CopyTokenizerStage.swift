import Checkpoint
import Foundation

/// Copies the tokenizer files, with `model_max_length` in `tokenizer_config.json` set to the
/// new length (the file is created when the source has none) and `special_tokens_map.json`
/// written as transformers saves it again.
public struct CopyTokenizerStage: Stage {
    public static let stageName = "copy-tokenizer"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let tokenizer = try context.requireSource().tokenizer
        let maxLength = context.options.maxLength
        try context.write(try tokenizer.tokenizerConfig(modelMaxLength: maxLength), as: "tokenizer_config.json",
                          role: "tokenizer config (model_max_length \(maxLength))")
        if let map = try tokenizer.specialTokensMap() {
            try context.write(map, as: "special_tokens_map.json", role: "tokenizer (special tokens as added tokens)")
        }
        for file in tokenizer.fileNames where !context.files.contains(where: { $0.name == file }) {
            try context.write(try tokenizer.contents(of: file), as: file, role: "tokenizer (copied)")
        }
        context.report.changes.append("tokenizer: \(tokenizer.fileNames.count) file(s), model_max_length \(maxLength)")
    }
}
