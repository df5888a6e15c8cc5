import Checkpoint
import LSGErrors

/// How a loaded task head runs: the rows it reads from a last hidden state, then its layers, its
/// outputs split and shaped as transformers returns them. The encoder and the encoder-decoder
/// heads (`Seq2SeqTaskHead`) share it.
extension EncoderWeights.TaskHead {
    /// The rows `computation.input` names, out of `states` (`[batch, length, hidden]` for `input`).
    /// `pooledOutput` is needed for `.pooledOutput`, `eosTokenId` for `.lastEOSToken`.
    func inputRows(
        of states: [Float], hiddenSize h: Int, input: EncoderInput, pooledOutput: [Float]? = nil, eosTokenId: Int? = nil
    ) throws(LSGError) -> [Float] {
        let (batch, length) = (input.batchSize, input.length)
        switch computation.input {
        case .everyToken:
            return states
        case .firstToken:
            return (0..<batch).flatMap { states[($0 * length * h)..<($0 * length * h + h)] }
        case .pooledOutput:
            guard let pooledOutput else { throw LSGError(.internal, "the \(head.rawValue) head reads the pooler's output, and none was computed") }
            return pooledOutput
        case .lastEOSToken:
            let rows = try Self.lastEOSPositions(input, eosTokenId: eosTokenId)
            return rows.enumerated().flatMap { row, position in
                states[((row * length + position) * h)..<((row * length + position + 1) * h)]
            }
        }
    }

    /// Each row's last eos position. transformers refuses a batch whose rows hold different
    /// numbers of eos tokens ("All examples must have the same number of <eos> tokens"); so does this.
    static func lastEOSPositions(_ input: EncoderInput, eosTokenId: Int?) throws(LSGError) -> [Int] {
        guard let eos = eosTokenId.map(Int64.init) else {
            throw LSGError(.invalidInput, "config.json has no eos_token_id; the classifier reads each row's last eos token")
        }
        let rows = (0..<input.batchSize).map { row in
            input.inputIds[(row * input.length)..<((row + 1) * input.length)].enumerated().filter { $0.element == eos }.map(\.offset)
        }
        let counts = rows.map(\.count)
        guard Set(counts).count == 1 else {
            throw LSGError(.invalidInput, "input_ids rows hold different numbers of eos tokens (id \(eos)): \(counts.map(String.init).joined(separator: ", ")); the classifier reads each row's last one, and transformers refuses such a batch")
        }
        guard counts[0] > 0 else {
            throw LSGError(.invalidInput, "input_ids holds no eos token (id \(eos)); the classifier reads each row's last one")
        }
        return rows.map { $0.last! }
    }

    /// The layers over `x` (rows of the first layer's input width), the outputs split among
    /// `computation.outputs` and shaped for `input`.
    func outputs(over x: [Float], input: EncoderInput) -> [(name: String, shape: [Int], values: [Float])] {
        let rows = x.count / (layers.first?.inputs ?? 1)
        var x = x
        for layer in layers {
            var y = [Float](repeating: 0, count: rows * layer.outputs)
            x.withUnsafeBufferPointer { input in
                y.withUnsafeMutableBufferPointer { output in
                    Encoder.dense(layer.linear.weight, layer.linear.bias, rows: rows, x: input.baseAddress!,
                                  inputSize: layer.inputs, outputSize: layer.outputs, y: output.baseAddress!)
                    switch layer.activation {
                    case nil: break
                    case .tanh: for i in output.indices { output[i] = VectorMath.tanh(output[i]) }
                    case .relu: VectorMath.apply(.relu, output.baseAddress!, count: output.count)
                    case .gelu: VectorMath.apply(.gelu, output.baseAddress!, count: output.count)
                    }
                }
            }
            x = y
        }
        let names = computation.outputs
        let width = outputWidth
        let part = width / names.count
        let (batch, length) = (input.batchSize, input.length)
        return names.enumerated().map { index, name in
            var values: [Float] = []
            values.reserveCapacity(rows * part)
            for row in 0..<rows {
                let start = row * width + index * part
                values += x[start..<(start + part)]
            }
            let shape: [Int]
            switch head {
            case .tokenClassification: shape = [batch, length, part]
            case .questionAnswering: shape = [batch, length]
            case .multipleChoice: shape = [batch / input.choices, input.choices]
            default: shape = [batch, part]
            }
            return (name, shape, values)
        }
    }
}
