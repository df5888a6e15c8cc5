import ArgumentParser
import Checkpoint
import Foundation
import JSON
import Tokenizers

/// `lsg-convert tokenize MODEL [TEXT ...]`: token ids and tokens as transformers' fast tokenizer
/// gives them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize texts exactly as transformers' AutoTokenizer (fast) does.",
        discussion: """
            Prints each text's ids and tokens, or with --json one object {"input_ids": [[...]], \
            "attention_mask": [[...]], "tokens": [[...]]} with a row per text. --max-length truncates \
            (longest first); without it a text longer than the model's model_max_length is an error. \
            --padding pads to the longest text (to --max-length when given).
            """
    )

    @Argument(help: "Model directory, or a Hugging Face name found in the local cache.")
    var model: String

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    @OptionGroup var textFile: TextFileOption

    @Option(help: "Truncate every text to this many tokens, special tokens included.")
    var maxLength: Int?

    @Flag(help: "Pad to the longest text, or to --max-length when given.")
    var padding = false

    @Option(help: "Round the padded length up to a multiple of this.")
    var padToMultipleOf: Int?

    @Flag(help: "Print one JSON object instead of lines.")
    var json = false

    func validate() throws {
        if texts.isEmpty && textFile.textFile == nil { throw ValidationError("give at least one TEXT or --text-file") }
        if let maxLength, maxLength <= 0 { throw ValidationError("--max-length must be positive") }
        if let padToMultipleOf, padToMultipleOf <= 0 { throw ValidationError("--pad-to-multiple-of must be positive") }
        if padToMultipleOf != nil && !padding { throw ValidationError("--pad-to-multiple-of needs --padding") }
    }

    func run() throws {
        let directory = try ModelLocator().resolve(model).directory
        let tokenizer = try Tokenizer(directory: directory)
        let all = texts + (try textFile.lines())
        var options = TokenizeOptions(maxLength: maxLength, truncation: maxLength != nil)
        options.padding = padding ? (maxLength != nil ? .maxLength : .longest) : .none
        options.padToMultipleOf = padToMultipleOf
        let encodings = try tokenizer.encode(batch: all, options: options)
        if maxLength == nil, let limit = tokenizer.modelMaxLength,
           let index = encodings.firstIndex(where: { $0.attentionMask.reduce(0, +) > limit }) {
            throw ValidationError("text \(index + 1) has \(encodings[index].attentionMask.reduce(0, +)) tokens, more than the model's maximum of \(limit); pass --max-length to truncate")
        }
        if json {
            func rows(_ values: (Encoding) -> [String]) -> String {
                "[" + encodings.map { "[" + values($0).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
            }
            print("{\"input_ids\": \(rows { $0.ids.map(String.init) }), \"attention_mask\": \(rows { $0.attentionMask.map(String.init) }), "
                + "\"tokens\": \(rows { $0.tokens.map(jsonQuoted) })}")
            return
        }
        for (index, encoding) in encodings.enumerated() {
            if encodings.count > 1 { print("text \(index + 1):") }
            print("ids: " + encoding.ids.map(String.init).joined(separator: " "))
            print("tokens: " + encoding.tokens.map(jsonQuoted).joined(separator: " "))
        }
    }
}
