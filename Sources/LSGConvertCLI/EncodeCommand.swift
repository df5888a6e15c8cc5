import ArgumentParser
import Checkpoint
import Foundation
import LSGEncoder
import SafeTensors
import TextTasks

/// `lsg-convert encode MODEL (--input IN | --text T... | --text-file F) --output OUT`: runs the
/// encoder on token ids from a file, or on texts through the model's tokenizer.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Run the Swift LSG encoder on token ids from a safetensors file, or on texts.",
        discussion: """
            IN holds input_ids (I64 or I32, [batch, length], or [batch, choices, length] for \\
            multiple choice) and optionally attention_mask and token_type_ids. With --text or \\
            --text-file the model's tokenizer makes them: one row per text, padded to the longest. \\
            OUT gets last_hidden_state (F32 [batch, length, hidden]) and what each --head adds: mlm, \\
            logits [batch, length, vocab]; pooler, pooler_output [batch, hidden]; \\
            sequence-classification, logits [batch, labels]; token-classification, logits [batch, \\
            length, labels]; question-answering, start_logits and end_logits [batch, length]; \\
            multiple-choice, logits [batch, choices]. LSG options override the checkpoint's \\
            settings like from_pretrained keyword arguments.
            """
    )

    @Argument(help: "Model directory, or a Hugging Face name found in the local cache.")
    var model: String

    @Option(help: "Safetensors file with input_ids (and attention_mask, token_type_ids).")
    var input: String?

    @Option(help: "A text to encode (repeatable): tokenized by the model's tokenizer.")
    var text: [String] = []

    @OptionGroup var textFile: TextFileOption

    @Option(help: "With texts: truncate each to this many tokens (by default a longer text than the model takes is an error).")
    var maxLength: Int?

    @Option(help: "Safetensors file to write.")
    var output: String

    @Option(help: "Extra output, repeatable: \(EncoderHead.allValueStrings.joined(separator: ", ")).")
    var head: [EncoderHead] = []

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        let texts = !text.isEmpty || textFile.textFile != nil
        guard (input != nil) != texts else { throw ValidationError("give --input, or --text / --text-file (not both)") }
        if maxLength != nil, !texts { throw ValidationError("--max-length goes with --text or --text-file") }
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
    }

    func run() throws {
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model))
        let encoder: Encoder
        let encoderInput: EncoderInput
        if let input {
            encoder = try Encoder(model: directory, overrides: lsg.overrides, heads: Set(head))
            encoderInput = try EncoderInput(file: SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)))
        } else {
            let textModel = try TextModel(directory: directory, heads: Set(head), overrides: lsg.overrides)
            encoder = textModel.encoder
            let texts = text + (try textFile.lines())
            guard !texts.isEmpty else { throw ValidationError("\(textFile.textFile ?? "--text-file"): holds no text") }
            let encodings = try textModel.tokenize(batch: texts, maxLength: maxLength)
            encoderInput = try TextModel.input(encodings, hasTokenTypes: encoder.configuration.family.hasTokenTypes)
        }
        let result = try encoder.encode(encoderInput, options: runOptions.encodeOptions())
        try result.write(
            to: URL(fileURLWithPath: output), batchSize: encoderInput.batchSize, length: encoderInput.length,
            configuration: encoder.configuration)
    }
}
