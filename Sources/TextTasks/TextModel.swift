import Checkpoint
import FileIO
import Foundation
import LSGEncoder
import LSGErrors
import Tokenizers

/// A model directory read as transformers' pipelines read it: its tokenizer, and an encoder
/// running the heads a task needs. Text goes in whole, or truncated to a length the caller
/// chose; a text longer than the model takes is refused, never cut silently.
public struct TextModel: Sendable {
    public let directory: ModelDirectory
    public let tokenizer: Tokenizer
    public let encoder: Encoder

    /// Loads the tokenizer and an encoder with `heads`; a model without a head's tensors is
    /// refused, naming the first one it lacks.
    public init(directory: ModelDirectory, heads: Set<EncoderHead>, overrides: LSGOverrides = LSGOverrides()) throws {
        self.directory = directory
        tokenizer = try Tokenizer(directory: directory.url)
        do {
            encoder = try Encoder(model: directory, overrides: overrides, heads: heads)
        } catch let error as LSGError where error.kind == .missingTensor {
            let names = heads.map(\.rawValue).sorted().joined(separator: ", ")
            throw LSGError(.missingTensor, "\(directory.url.path): no \(names) head (\(error))")
        }
    }

    /// The longest input the model takes, special tokens included.
    public var maxLength: Int { encoder.configuration.maxInputLength }

    /// `text` tokenized as the pipelines do (special tokens added); truncated to `maxLength`
    /// tokens when given, else refused when longer than the model takes.
    public func tokenize(_ text: String, maxLength requested: Int? = nil) throws -> Encoding {
        try tokenize(batch: [text], maxLength: requested)[0]
    }

    /// Several texts, padded to the longest as the tokenizer pads (side and id from its config).
    public func tokenize(batch texts: [String], maxLength requested: Int? = nil) throws -> [Encoding] {
        if let requested, requested > maxLength {
            throw LSGError(.invalidOption, "--max-length \(requested) exceeds the \(maxLength) tokens \(directory.url.path) takes")
        }
        var options = TokenizeOptions()
        options.maxLength = requested
        options.truncation = requested != nil
        options.padding = texts.count > 1 ? .longest : .none
        let encodings = try tokenizer.encode(batch: texts, options: options)
        for (index, encoding) in encodings.enumerated() {
            let tokens = encoding.attentionMask.reduce(0, +)
            guard tokens > maxLength else { continue }
            let which = texts.count > 1 ? "text \(index + 1)" : "the text"
            throw LSGError(.limitExceeded, "\(which) has \(tokens) tokens, more than the \(maxLength) \(directory.url.path) takes; pass --max-length to truncate it")
        }
        return encodings
    }

    /// Runs the encoder on one encoding.
    public func run(_ encoding: Encoding, options: EncodeOptions = EncodeOptions()) throws -> EncoderOutput {
        try encoder.encode(try Self.input([encoding], hasTokenTypes: encoder.configuration.family.hasTokenTypes), options: options)
    }

    /// The encoder input of encodings of equal length (padded by the tokenizer).
    public static func input(_ encodings: [Encoding], hasTokenTypes: Bool) throws -> EncoderInput {
        let length = encodings.first?.ids.count ?? 0
        guard encodings.allSatisfy({ $0.ids.count == length }) else {
            throw LSGError(.invalidInput, "encodings of unequal lengths; pad them first")
        }
        return try EncoderInput(
            inputIds: encodings.flatMap { $0.ids.map(Int64.init) }, batchSize: encodings.count, length: length,
            attentionMask: encodings.flatMap { $0.attentionMask.map(Int64.init) },
            tokenTypeIds: hasTokenTypes ? encodings.flatMap { $0.typeIDs.map(Int64.init) } : nil)
    }
}
