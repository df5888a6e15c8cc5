import Checkpoint
import LSGErrors

/// The decoder of an encoder-decoder checkpoint (BART, mBART, BARThez, Pegasus) and, when asked
/// for, its language-model head, named by the family's `DecoderTensorNames` and `HeadDescription`.
struct DecoderWeights: Sendable {
    struct Attention: Sendable {
        let query, key, value, output: EncoderWeights.Linear
    }

    struct Layer: Sendable {
        let selfAttention: Attention
        let selfAttentionNorm: EncoderWeights.Norm
        let crossAttention: Attention
        let crossAttentionNorm: EncoderWeights.Norm
        let intermediate: EncoderWeights.Linear
        let output: EncoderWeights.Linear
        let outputNorm: EncoderWeights.Norm
    }

    /// `[vocab, hidden]`, shared with the encoder.
    let wordEmbeddings: WeightTensor
    let positionEmbeddings: WeightTensor
    /// BART and mBART normalise the embeddings; Pegasus does not.
    let embeddingNorm: EncoderWeights.Norm?
    let layers: [Layer]
    /// mBART and Pegasus normalise after the last layer.
    let finalNorm: EncoderWeights.Norm?
    /// The generation class's `lm_head` and `final_logits_bias`.
    struct LanguageModelHead: Sendable {
        /// `[vocab, hidden]`: the word embeddings when tied, else the stored `lm_head.weight`.
        let weight: WeightTensor
        /// `[vocab]`, added to the logits.
        let finalLogitsBias: WeightTensor
    }

    /// nil when not asked for (the task heads read the decoder's states instead).
    let languageModelHead: LanguageModelHead?
    /// Keeps mapped tensors and owned buffers alive.
    private let owners: WeightOwners

    init(source: any WeightSource, configuration config: EncoderConfiguration, sizes: DecoderSizes,
         withLanguageModelHead: Bool) throws {
        let owners = WeightOwners(source: source)
        self.owners = owners
        let reader = WeightReader(source: source, owners: owners)
        let family = config.family
        guard let names = family.encoderTensorNames.decoder,
              let generation = family.facts.heads[.conditionalGeneration],
              let headName = generation.tiedDecoder?.name, let biasName = generation.buffersBeforeModel.first?.name else {
            throw LSGError(.unsupported, "\(source.sourceName): \(family.rawValue) models have no decoder")
        }
        let prefix = try reader.encoderPrefix(family: family)
        let h = config.hiddenSize
        let f = sizes.feedForward
        func tensor(_ name: String, _ shape: [Int]) throws -> WeightTensor { try reader.tensor(prefix + name, shape: shape) }
        func norm(_ name: String) throws -> EncoderWeights.Norm {
            EncoderWeights.Norm(weight: try tensor(name + ".weight", [h]), bias: try tensor(name + ".bias", [h]))
        }
        func linear(_ name: String, inputs: Int = h, outputs: Int = h) throws -> EncoderWeights.Linear {
            EncoderWeights.Linear(weight: try tensor(name + ".weight", [outputs, inputs]),
                                  bias: try tensor(name + ".bias", [outputs]))
        }
        func attention(_ names: DecoderTensorNames.Attention) throws -> Attention {
            Attention(query: try linear(names.query), key: try linear(names.key), value: try linear(names.value),
                      output: try linear(names.output))
        }

        wordEmbeddings = try tensor(family.encoderTensorNames.wordEmbeddings, [config.vocabSize, h])
        positionEmbeddings = try tensor(names.positionEmbeddings, [config.positionRows, h])
        embeddingNorm = try names.embeddingNorm.map(norm)
        layers = try (0..<sizes.layers).map { index in
            let layer = names.layer(index)
            return Layer(
                selfAttention: try attention(layer.selfAttention), selfAttentionNorm: try norm(layer.selfAttentionNorm),
                crossAttention: try attention(layer.crossAttention), crossAttentionNorm: try norm(layer.crossAttentionNorm),
                intermediate: try linear(layer.intermediate, outputs: f), output: try linear(layer.output, inputs: f),
                outputNorm: try norm(layer.outputNorm))
        }
        finalNorm = try names.finalNorm.map(norm)
        guard withLanguageModelHead else {
            languageModelHead = nil
            return
        }
        // The head lives at the root of the generation class, beside `model.`.
        let weight = config.tiesWordEmbeddings ? wordEmbeddings : try reader.tensor(headName, shape: [config.vocabSize, h])
        // A checkpoint without the buffer (older BART uploads, the base model class) loads with
        // zeros, as transformers does (`_keys_to_ignore_on_load_missing`).
        let finalLogitsBias: WeightTensor
        do {
            finalLogitsBias = try reader.tensor(biasName, shape: [1, config.vocabSize])
        } catch let error as LSGError where error.kind == .missingTensor {
            finalLogitsBias = owners.own([Float](repeating: 0, count: config.vocabSize))
        }
        languageModelHead = LanguageModelHead(weight: weight, finalLogitsBias: finalLogitsBias)
    }
}
