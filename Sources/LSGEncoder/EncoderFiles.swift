import Foundation
import LSGErrors
import SafeTensors

extension EncoderInput {
    /// The inputs of an `encode` input file: `input_ids` (an integer dtype, `[batch, length]`, or
    /// `[batch, choices, length]` for a multiple-choice head), optionally `attention_mask` and
    /// `token_type_ids` of the same shape.
    public init(file: SafeTensorsFile) throws {
        func problem(_ kind: LSGError.Kind, _ text: String) -> LSGError { LSGError(kind, "\(file.name): \(text)") }
        guard let ids = file.info("input_ids") else { throw problem(.missingTensor, "no tensor 'input_ids'") }
        guard ids.shape.count == 2 || ids.shape.count == 3 else {
            throw problem(.shapeMismatch, "input_ids has shape \(ids.shape), expected [batch, length] or [batch, choices, length]")
        }
        func optional(_ name: String) throws -> [Int64]? {
            guard let info = file.info(name) else { return nil }
            guard info.shape == ids.shape else {
                // Named twice, as when this was rewrapped with the init's errors below.
                throw problem(.shapeMismatch, problem(.shapeMismatch, "\(name) has shape \(info.shape), input_ids has \(ids.shape)").description)
            }
            return try file.int64s(name)
        }
        let choices = ids.shape.count == 3 ? ids.shape[1] : 1
        let inputIds = try file.int64s("input_ids")
        let attentionMask = try optional("attention_mask")
        let tokenTypeIds = try optional("token_type_ids")
        do {
            try self.init(
                inputIds: inputIds, batchSize: ids.shape.dropLast().reduce(1, *),
                length: ids.shape.last!, attentionMask: attentionMask,
                tokenTypeIds: tokenTypeIds, choices: choices)
        } catch {
            throw problem(error.kind, error.description)
        }
    }
}

extension DecoderInput {
    /// The decoder inputs of an `encode` input file (`decoder_input_ids`, an integer dtype,
    /// `[batch, length]`); nil when it holds none.
    public init?(file: SafeTensorsFile) throws {
        guard let ids = file.info("decoder_input_ids") else { return nil }
        guard ids.shape.count == 2 else {
            throw LSGError(.shapeMismatch, "\(file.name): decoder_input_ids has shape \(ids.shape), expected [batch, length]")
        }
        do {
            try self.init(ids: try file.int64s("decoder_input_ids"), batchSize: ids.shape[0], length: ids.shape[1])
        } catch let error as LSGError {
            throw LSGError(error.kind, "\(file.name): \(error.description)")
        }
    }
}

extension LSHProjectionSource {
    /// Projections recorded as `lsh.projection.0`, `lsh.projection.1`, ... (the golden format).
    public init(recordedIn file: SafeTensorsFile) throws {
        let draws = try Self.recordedDraws(in: file)
        guard !draws.isEmpty else { throw LSGError(.missingTensor, "\(file.name): no tensor 'lsh.projection.0'") }
        self = .recorded(draws)
    }

    /// The draws recorded in `file`, in call order; empty when it holds none.
    public static func recordedDraws(in file: SafeTensorsFile) throws -> [[Float]] {
        var draws: [[Float]] = []
        while file.info(tensorName(draws.count)) != nil {
            draws.append(try file.floats(tensorName(draws.count)))
        }
        return draws
    }

    public static func tensorName(_ index: Int) -> String { "lsh.projection.\(index)" }
}

extension RecordedNormSelections {
    public static let tensorPrefix = "norm.selection."

    /// Selections recorded as `norm.selection.0`, `norm.selection.1`, ... (one integer tensor per
    /// layer, `[batch, heads, chunks × keep]`); nil when the file holds none.
    public init?(recordedIn file: SafeTensorsFile) throws {
        var layers: [[Int64]] = []
        while file.info(Self.tensorName(layers.count)) != nil {
            layers.append(try file.int64s(Self.tensorName(layers.count)))
        }
        guard !layers.isEmpty else { return nil }
        self.init(layers: layers, source: file.name)
    }

    public static func tensorName(_ layer: Int) -> String { tensorPrefix + "\(layer)" }
}

extension EncoderOutput {
    /// The outputs by name with their shapes: `last_hidden_state`, and `logits` /
    /// `pooler_output` when those heads ran.
    public func named(batchSize: Int, length: Int, configuration: EncoderConfiguration) -> [(name: String, shape: [Int], values: [Float])] {
        let states = [batchSize, leadingGlobalTokens + length, configuration.hiddenSize]
        var outputs = [("last_hidden_state", states, lastHiddenState)]
        if let logits { outputs.append(("logits", [batchSize, length, configuration.vocabSize], logits)) }
        if let pooledOutput { outputs.append(("pooler_output", [batchSize, configuration.hiddenSize], pooledOutput)) }
        return outputs + taskOutputs
    }

    /// Writes the outputs, and `extra` ones (the decoder's logits), as F32 tensors (complete file or none).
    public func write(
        to url: URL, batchSize: Int, length: Int, configuration: EncoderConfiguration,
        extra: [(name: String, shape: [Int], values: [Float])] = []
    ) throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for output in named(batchSize: batchSize, length: length, configuration: configuration) + extra {
            try writer.add(output.name, floats: output.values, shape: output.shape)
        }
        try writer.write(to: url)
    }
}
