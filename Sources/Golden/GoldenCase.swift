import Checkpoint
import Foundation
import JSON
import LSGEncoder
import LSGErrors
import SafeTensors

/// One recorded encoder case (`golden/encoder/<case>.safetensors.zst`, see golden/SCHEMA.md):
/// inputs, the outputs the reference produced, the LSG overrides it ran with and any LSH
/// projections it drew. An encoder-decoder case (`golden/seq2seq/`) also has decoder inputs, and
/// its outputs are the encoder's states and the decoder's logits.
public struct GoldenCase: Sendable {
    public let url: URL
    public let name: String
    public let metadata: [String: String]
    /// The model directory, relative to the golden root (`metadata["model"]`).
    public let modelPath: String
    public let overrides: LSGOverrides
    public let heads: Set<EncoderHead>
    public let atol: Double
    public let input: EncoderInput
    /// Expected outputs by name (`last_hidden_state`, `logits`, `pooler_output`).
    public let expected: [String: (shape: [Int], values: [Float])]
    /// The teacher-forced decoder inputs of an encoder-decoder case; nil for an encoder case.
    public let decoderInput: DecoderInput?
    /// Global tokens in front of the recorded encoder states (`pass_global_tokens_to_decoder`).
    public let leadingGlobalTokens: Int
    /// Recorded `torch.randn` draws, in call order.
    public let lshProjections: [[Float]]
    /// The reference's `norm` selections, when the case recorded them (`norm.selection.<k>`).
    public let normSelections: RecordedNormSelections?

    public static let suffix = ".safetensors.zst"

    public init(contentsOf url: URL) throws {
        // Bounded by the sizes the frame and the safetensors header declare.
        try self.init(file: try WeightFiles.openFile(url), url: url)
    }

    init(file: SafeTensorsFile, url: URL) throws {
        self.url = url
        let fileName = url.lastPathComponent
        name = fileName.hasSuffix(Self.suffix) ? String(fileName.dropLast(Self.suffix.count)) : fileName
        let metadata = file.metadata ?? [:]
        self.metadata = metadata
        func problem(_ kind: LSGError.Kind, _ text: String) -> LSGError { LSGError(kind, "\(url.path): \(text)") }
        guard let model = metadata["model"] else { throw problem(.malformed, "metadata has no 'model'") }
        modelPath = model
        overrides = try Self.parseOverrides(metadata["overrides"] ?? "{}", problem: problem)
        atol = Double(metadata["atol"] ?? "0.0001") ?? 1e-4

        do {
            input = try EncoderInput(file: file)
        } catch {
            throw problem((error as? LSGError)?.kind ?? .malformed, "\(error)")
        }

        var expected: [String: (shape: [Int], values: [Float])] = [:]
        for info in file.tensors where info.name.hasPrefix("expected.") {
            expected[String(info.name.dropFirst("expected.".count))] = (info.shape, try file.floats(info.name))
        }
        if let ids = file.info("decoder_input_ids") {
            guard ids.shape.count == 2 else { throw problem(.malformed, "decoder_input_ids has shape \(ids.shape), expected [batch, length]") }
            do {
                decoderInput = try DecoderInput(ids: try file.int64s("decoder_input_ids"), batchSize: ids.shape[0], length: ids.shape[1])
            } catch {
                throw problem(.malformed, "\(error)")
            }
        } else {
            decoderInput = nil
        }
        leadingGlobalTokens = Int(metadata["leading_global_tokens"] ?? "0") ?? 0
        let statesName = decoderInput == nil ? "last_hidden_state" : Self.encoderStatesName
        guard expected[statesName] != nil else { throw problem(.malformed, "no expected.\(statesName)") }
        self.expected = expected
        var heads: Set<EncoderHead> = []
        // An encoder-decoder case's logits are the decoder's, not an encoder head's.
        if let taskHead = metadata["head"].flatMap(EncoderHead.init(rawValue:)), taskHead.taskHead != nil {
            heads.insert(taskHead)
        } else if expected["logits"] != nil, decoderInput == nil {
            heads.insert(.mlm)
        }
        if expected["pooler_output"] != nil { heads.insert(.pooler) }
        self.heads = heads

        lshProjections = try LSHProjectionSource.recordedDraws(in: file)
        normSelections = try RecordedNormSelections(recordedIn: file)
    }

    /// The encoder's states in an encoder-decoder case (as `Seq2SeqLMOutput` names them).
    public static let encoderStatesName = "encoder_last_hidden_state"

    /// The golden root: the directory above `encoder/`.
    public var goldenRoot: URL { url.deletingLastPathComponent().deletingLastPathComponent() }

    /// The model the case was recorded with.
    public var modelURL: URL { goldenRoot.appendingPathComponent(modelPath) }

    /// Runs the case on `model` (by default the recorded one) and compares every output.
    public func validate(model: ModelDirectory? = nil, threads: Int = 1, atol: Double? = nil, rtol: Double = 0) -> ValidationReport {
        let title = "golden case \(name)"
        let outputs: [String: (shape: [Int], values: [Float])]
        do {
            outputs = try run(model: model ?? ModelDirectory(url: modelURL, readingTokenizer: false), threads: threads)
        } catch {
            return ValidationReport(title: title, comparisons: [], errors: ["\(error)"])
        }
        return compare(outputs, atol: atol ?? self.atol, rtol: rtol, title: title)
    }

    /// The encoder's outputs for this case's inputs, by output name.
    public func run(model: ModelDirectory, threads: Int = 1) throws -> [String: (shape: [Int], values: [Float])] {
        let encoder = try Encoder(model: model, overrides: overrides, heads: heads)
        let options = EncodeOptions(threads: threads, lshProjections: .recorded(lshProjections), normSelections: normSelections)
        let output = try encoder.encode(input, options: options)
        if let decoderInput {
            let config = encoder.configuration
            let logits = try Seq2SeqDecoder(model: model, overrides: overrides)
                .logits(decoderInput, encoderInput: input, encoderOutput: output)
            return [
                Self.encoderStatesName: ([input.batchSize, output.leadingGlobalTokens + input.length, config.hiddenSize],
                                         output.lastHiddenState),
                "logits": ([input.batchSize, decoderInput.length, config.vocabSize], logits),
            ]
        }
        var named: [String: (shape: [Int], values: [Float])] = [:]
        for item in output.named(batchSize: input.batchSize, length: input.length, configuration: encoder.configuration) {
            named[item.name] = (item.shape, item.values)
        }
        return named
    }

    /// Compares `outputs` with the expected values: per-token outputs (`[batch, length, ...]`)
    /// only where the attention mask is 1 (encoder states of an encoder-decoder case: and on the
    /// global rows in front), the others (pooled output, sequence and choice logits, decoder
    /// logits) everywhere.
    public func compare(
        _ outputs: [String: (shape: [Int], values: [Float])], atol: Double, rtol: Double, title: String
    ) -> ValidationReport {
        var comparisons: [OutputComparison] = []
        var errors: [String] = []
        let mask = input.attentionMask
        for (name, expected) in expected.sorted(by: { $0.key < $1.key }) {
            guard let actual = outputs[name] else {
                errors.append("\(name): not produced")
                continue
            }
            let perToken = decoderInput == nil
                ? name != "pooler_output" && !(name == "logits" && heads.contains { $0.hasSequenceLogits })
                : name == Self.encoderStatesName
            let rowsPerSequence = leadingGlobalTokens + input.length
            let width = max(1, expected.values.count / (input.batchSize * rowsPerSequence))
            comparisons.append(OutputComparison(
                name: name, expected: expected.values, expectedShape: expected.shape, actual: actual.values,
                actualShape: actual.shape, atol: atol, rtol: rtol,
                include: { index in
                    guard perToken, let mask else { return true }
                    let (sequence, row) = (index / width).quotientAndRemainder(dividingBy: rowsPerSequence)
                    return row < leadingGlobalTokens || mask[sequence * input.length + row - leadingGlobalTokens] == 1
                }))
        }
        return ValidationReport(title: title, comparisons: comparisons, errors: errors)
    }

    private static func parseOverrides(_ text: String, problem: (LSGError.Kind, String) -> LSGError) throws -> LSGOverrides {
        guard let object = try JSONValue.parse(text).objectValue else { throw problem(.malformed, "overrides is not a JSON object") }
        do {
            return try LSGOverrides(json: object)
        } catch .unknownKey(let key) {
            throw problem(.invalidOption, "unknown override '\(key)'")
        } catch .invalid(let invalid) {
            throw problem(.invalidOption, "override " + invalid.message(.key))
        }
    }
}
