import ArgumentParser
import Checkpoint
import Foundation
import LSGEncoder
import SafeTensors

/// `lsg-convert encode MODEL --input IN --output OUT`: runs the encoder on a file of token ids.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Run the Swift LSG encoder on token ids from a safetensors file.",
        discussion: """
            IN holds input_ids (I64 or I32, [batch, length], or [batch, choices, length] for \
            multiple choice) and optionally attention_mask and token_type_ids. OUT gets \
            last_hidden_state (F32 [batch, length, hidden]) and what each --head adds: mlm, logits \
            [batch, length, vocab]; pooler, pooler_output [batch, hidden]; sequence-classification, \
            logits [batch, labels]; token-classification, logits [batch, length, labels]; \
            question-answering, start_logits and end_logits [batch, length]; multiple-choice, logits \
            [batch, choices]. LSG options override the checkpoint's settings like from_pretrained \
            keyword arguments.
            """
    )

    @Argument(help: "Model directory, or a Hugging Face name found in the local cache.")
    var model: String

    @Option(help: "Safetensors file with input_ids (and attention_mask, token_type_ids).")
    var input: String

    @Option(help: "Safetensors file to write.")
    var output: String

    @Option(help: "Extra output, repeatable: \(EncoderHead.allValueStrings.joined(separator: ", ")).")
    var head: [EncoderHead] = []

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func run() throws {
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model))
        let encoder = try Encoder(model: directory, overrides: lsg.overrides, heads: Set(head))
        let encoderInput = try EncoderInput(file: SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)))
        let result = try encoder.encode(encoderInput, options: runOptions.encodeOptions())
        try result.write(
            to: URL(fileURLWithPath: output), batchSize: encoderInput.batchSize, length: encoderInput.length,
            configuration: encoder.configuration)
    }
}
