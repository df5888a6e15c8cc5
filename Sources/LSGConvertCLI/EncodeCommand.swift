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
            IN holds input_ids (I64 or I32, [batch, length], or [batch, choices, length] for \
            multiple choice) and optionally attention_mask and token_type_ids. With --text or \
            --text-file the model's tokenizer makes them: one row per text, padded to the longest. \
            OUT gets last_hidden_state (F32 [batch, length, hidden]) and what each --head adds: mlm, \
            logits [batch, length, vocab]; pooler, pooler_output [batch, hidden]; \
            sequence-classification, logits [batch, labels]; token-classification, logits [batch, \
            length, labels]; question-answering, start_logits and end_logits [batch, length]; \
            multiple-choice, logits [batch, choices]. LSG options override the checkpoint's \
            settings like from_pretrained keyword arguments. Encoder-decoder models (BART, mBART, \
            BARThez, Pegasus) read token ids only: last_hidden_state is the encoder's, [batch, \
            globals + length, hidden] when it passes its global tokens to the decoder; with \
            --decoder-input (or decoder_input_ids in IN) OUT also gets the decoder's logits [batch, \
            decoder length, vocab], as LSG*ForConditionalGeneration(input_ids, attention_mask, \
            decoder_input_ids) computes them. BART, mBART and BARThez run --head \
            sequence-classification (logits [batch, labels], at each row's last eos token; every row \
            must hold as many eos tokens) and question-answering (start_logits and end_logits [batch, \
            length]) on their decoder, fed input_ids shifted right as the model does.
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

    @Option(help: "Encoder-decoder models: decoder input ids, comma-separated (e.g. 2,45,17), the same for every row.")
    var decoderInput: String?

    @Option(help: "Extra output, repeatable: \(EncoderHead.allValueStrings.joined(separator: ", ")).")
    var head: [EncoderHead] = []

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        let texts = !text.isEmpty || textFile.textFile != nil
        guard (input != nil) != texts else { throw ValidationError("give --input, or --text / --text-file (not both)") }
        if maxLength != nil, !texts { throw ValidationError("--max-length goes with --text or --text-file") }
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
        if let decoderInput, Self.ids(decoderInput) == nil {
            throw ValidationError("--decoder-input takes comma-separated token ids (got '\(decoderInput)')")
        }
    }

    /// Comma-separated ids; nil when one is not an integer or there are none.
    static func ids(_ text: String) -> [Int64]? {
        let ids = text.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
        guard !ids.isEmpty, !ids.contains(nil) else { return nil }
        return ids.compactMap { $0 }
    }

    func run() throws {
        // Token ids need no tokenizer (and BART-style tokenizers are not ported).
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model), readingTokenizer: input == nil)
        // An encoder-decoder's task head reads the decoder: the encoder runs without it.
        let decoderHead = try seq2seqTaskHead(directory)
        let encoderHeads = decoderHead == nil ? Set(head) : []
        let encoder: Encoder
        let encoderInput: EncoderInput
        var fileDecoderInput: DecoderInput?
        if let input {
            encoder = try Encoder(model: directory, overrides: lsg.overrides, heads: encoderHeads)
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: input))
            encoderInput = try EncoderInput(file: file)
            fileDecoderInput = try DecoderInput(file: file)
        } else {
            let textModel = try TextModel(directory: directory, heads: encoderHeads, overrides: lsg.overrides)
            encoder = textModel.encoder
            let texts = text + (try textFile.lines())
            guard !texts.isEmpty else { throw ValidationError("\(textFile.textFile ?? "--text-file"): holds no text") }
            let encodings = try textModel.tokenize(batch: texts, maxLength: maxLength)
            encoderInput = try TextModel.input(encodings, hasTokenTypes: encoder.configuration.family.hasTokenTypes)
        }
        let result = try encoder.encode(encoderInput, options: runOptions.encodeOptions())
        var decoderOutputs: [(name: String, shape: [Int], values: [Float])] = []
        if let decoderHead {
            guard decoderInput == nil, fileDecoderInput == nil else {
                throw ValidationError("--head \(decoderHead.head.rawValue) runs the decoder on input_ids shifted right; give no --decoder-input or decoder_input_ids with it")
            }
            decoderOutputs = try decoderHead.outputs(encoderInput, encoderOutput: result)
        } else if let decoderInput = try decoderInput(encoderInput, fromFile: fileDecoderInput) {
            let logits = try Seq2SeqDecoder(model: directory, overrides: lsg.overrides)
                .logits(decoderInput, encoderInput: encoderInput, encoderOutput: result)
            decoderOutputs = [("logits", [decoderInput.batchSize, decoderInput.length, encoder.configuration.vocabSize], logits)]
        }
        try result.write(
            to: URL(fileURLWithPath: output), batchSize: encoderInput.batchSize, length: encoderInput.length,
            configuration: encoder.configuration, extra: decoderOutputs)
    }

    /// The task head an encoder-decoder model runs on its decoder; nil for an encoder model or without --head.
    private func seq2seqTaskHead(_ directory: ModelDirectory) throws -> Seq2SeqTaskHead? {
        guard !head.isEmpty, try EncoderConfiguration(model: directory, overrides: lsg.overrides).isEncoderDecoder else {
            return nil
        }
        guard head.count == 1 else {
            throw ValidationError("encoder-decoder models run one --head at a time (got \(head.map(\.rawValue).joined(separator: ", ")))")
        }
        return try Seq2SeqTaskHead(model: directory, head: head[0], overrides: lsg.overrides)
    }

    /// --decoder-input repeated for every row, or the input file's decoder_input_ids.
    private func decoderInput(_ encoderInput: EncoderInput, fromFile: DecoderInput?) throws -> DecoderInput? {
        guard let text = decoderInput else { return fromFile }
        guard fromFile == nil else { throw ValidationError("--decoder-input given, but \(input ?? "IN") holds decoder_input_ids too") }
        let ids = Self.ids(text) ?? []
        return try DecoderInput(ids: Array((0..<encoderInput.batchSize).map { _ in ids }.joined()),
                                batchSize: encoderInput.batchSize, length: ids.count)
    }
}
