import ArgumentParser
import Checkpoint
import Foundation
import LSGEncoder
import SafeTensors
import TextTasks
import Tokenizers

/// `lsg-convert generate MODEL (--input IN | --input-ids IDS | --text T... | --text-file F)
/// --max-new-tokens N`: greedy decoding with an encoder-decoder model, on token ids or texts.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Greedy generation with an encoder-decoder model (BART, mBART, BARThez, Pegasus) from token ids or texts.",
        discussion: """
            Runs the Swift LSG encoder once and the decoder on the growing prefix, as \
            model.generate(input_ids, attention_mask, do_sample=False, num_beams=1, max_new_tokens=N) \
            does with the model's generation_config.json (decoder start, eos, pad and forced eos \
            tokens). Prints one line of space-separated token ids per input row, the decoder \
            start token first. IN holds input_ids [batch, length] and optionally attention_mask. \
            With --text or --text-file the model's tokenizer makes the rows (padded to the \
            longest) and each generated sequence is printed as text, special tokens skipped.
            """
    )

    @Argument(help: "Model directory, or a Hugging Face name found in the local cache.")
    var model: String

    @Option(help: "Safetensors file with input_ids (and attention_mask).")
    var input: String?

    @Option(help: "One input row as comma-separated token ids (e.g. 0,45,17,2).")
    var inputIds: String?

    @Option(help: "A text to generate from (repeatable): tokenized by the model's tokenizer.")
    var text: [String] = []

    @OptionGroup var textFile: TextFileOption

    @Option(help: "With texts: truncate each to this many tokens (by default a longer text than the model takes is an error).")
    var maxLength: Int?

    @Option(help: "Tokens to generate at most, after the decoder start token.")
    var maxNewTokens: Int

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        let texts = !text.isEmpty || textFile.textFile != nil
        guard [input != nil, inputIds != nil, texts].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --input, --input-ids, or --text / --text-file")
        }
        if maxLength != nil, !texts { throw ValidationError("--max-length goes with --text or --text-file") }
        if let inputIds, EncodeCommand.ids(inputIds) == nil {
            throw ValidationError("--input-ids takes comma-separated token ids (got '\(inputIds)')")
        }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1 (got \(maxNewTokens))") }
    }

    func run() throws {
        let texts = text + (try textFile.lines())
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model), readingTokenizer: !texts.isEmpty)
        let encoder: Encoder
        let encoderInput: EncoderInput
        var tokenizer: Tokenizer?
        if let input {
            encoder = try Encoder(model: directory, overrides: lsg.overrides)
            encoderInput = try EncoderInput(file: SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)))
        } else if let inputIds {
            encoder = try Encoder(model: directory, overrides: lsg.overrides)
            let ids = EncodeCommand.ids(inputIds) ?? []
            encoderInput = try EncoderInput(inputIds: ids, batchSize: 1, length: ids.count)
        } else {
            guard !texts.isEmpty else { throw ValidationError("\(textFile.textFile ?? "--text-file"): holds no text") }
            let textModel = try TextModel(directory: directory, heads: [], overrides: lsg.overrides)
            encoder = textModel.encoder
            tokenizer = textModel.tokenizer
            encoderInput = try TextModel.input(try textModel.tokenize(batch: texts, maxLength: maxLength), hasTokenTypes: false)
        }
        let generation = GreedyGeneration(
            encoder: encoder, decoder: try Seq2SeqDecoder(model: directory, overrides: lsg.overrides),
            settings: try GenerationConfig(model: directory))
        let rows = try generation.generate(encoderInput, maxNewTokens: maxNewTokens, options: runOptions.encodeOptions())
        for row in rows {
            if let tokenizer {
                print(tokenizer.decode(row.map(Int.init), skipSpecialTokens: true))
            } else {
                print(row.map(String.init).joined(separator: " "))
            }
        }
    }
}
