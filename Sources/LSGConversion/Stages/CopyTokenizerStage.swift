import Checkpoint
import Foundation

/// Copies the tokenizer files, with `model_max_length` in `tokenizer_config.json` set to the
/// new length (the file is created when the source has none).
public struct CopyTokenizerStage: Stage {
    public static let stageName = "copy-tokenizer"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let tokenizer = try context.requireSource().tokenizer
        let maxLength = context.options.maxLength
        try context.write(try tokenizer.tokenizerConfig(modelMaxLength: maxLength), as: "tokenizer_config.json",
                          role: "tokenizer config (model_max_length \(maxLength))")
        for file in tokenizer.fileNames where file != "tokenizer_config.json" {
            let url = tokenizer.directory.appendingPathComponent(file)
            let data: Data
            do {
                data = try Data(contentsOf: url, options: .mappedIfSafe)
            } catch {
                throw ConversionError("\(url.path): cannot read (\(error.localizedDescription))")
            }
            try context.write(data, as: file, role: "tokenizer (copied)")
        }
        context.report.changes.append("tokenizer: \(tokenizer.fileNames.count) file(s), model_max_length \(maxLength)")
    }
}
