import ArgumentParser
import Checkpoint
import Foundation
import LSGEncoder
import SafeTensors

/// `lsg-convert generate MODEL (--input IN | --input-ids IDS) --max-new-tokens N`: greedy decoding
/// with an encoder-decoder model, on token ids.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Greedy generation with an encoder-decoder model (BART, mBART, BARThez, Pegasus) from token ids.",
        discussion: """
            Runs the Swift LSG encoder once and the decoder on the growing prefix, as \
            model.generate(input_ids, attention_mask, do_sample=False, num_beams=1, max_new_tokens=N) \
            does with the model's generation_config.json (decoder start, eos, pad and forced eos \
            tokens). Prints one line of space-separated token ids per input row, the decoder \
            start token first. IN holds input_ids [batch, length] and optionally attention_mask.
            """
    )

    @Argument(help: "Model directory, or a Hugging Face name found in the local cache.")
    var model: String

    @Option(help: "Safetensors file with input_ids (and attention_mask).")
    var input: String?

    @Option(help: "One input row as comma-separated token ids (e.g. 0,45,17,2).")
    var inputIds: String?

    @Option(help: "Tokens to generate at most, after the decoder start token.")
    var maxNewTokens: Int

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        guard (input != nil) != (inputIds != nil) else { throw ValidationError("give --input or --input-ids (not both)") }
        if let inputIds, EncodeCommand.ids(inputIds) == nil {
            throw ValidationError("--input-ids takes comma-separated token ids (got '\(inputIds)')")
        }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1 (got \(maxNewTokens))") }
    }

    func run() throws {
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model), readingTokenizer: false)
        let encoderInput: EncoderInput
        if let input {
            encoderInput = try EncoderInput(file: SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)))
        } else {
            let ids = EncodeCommand.ids(inputIds ?? "") ?? []
            encoderInput = try EncoderInput(inputIds: ids, batchSize: 1, length: ids.count)
        }
        let generation = GreedyGeneration(
            encoder: try Encoder(model: directory, overrides: lsg.overrides),
            decoder: try Seq2SeqDecoder(model: directory, overrides: lsg.overrides),
            settings: try GenerationConfig(model: directory))
        let rows = try generation.generate(encoderInput, maxNewTokens: maxNewTokens, options: runOptions.encodeOptions())
        for row in rows { print(row.map(String.init).joined(separator: " ")) }
    }
}
