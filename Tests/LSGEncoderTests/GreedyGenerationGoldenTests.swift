import Checkpoint
import Foundation
import JSON
import LSGEncoder
import LSGErrors
import SafeTensors
import Testing

/// Greedy generation against the reference's `generate` (golden/seq2seq/generate/<family>).
@Suite("Greedy generation of BART, mBART, BARThez and Pegasus against the reference")
struct GreedyGenerationGoldenTests {
    static let directory = goldenRoot.appendingPathComponent("seq2seq/generate")

    @Test("the model's generation settings and the generated ids are the reference's",
          arguments: ["bart", "mbart", "barthez", "pegasus"])
    func matchesReference(_ family: String) throws {
        let file = try WeightFiles.openFile(Self.directory.appendingPathComponent("\(family).safetensors.zst"))
        let metadata = try #require(file.metadata)
        func value(_ key: String) throws -> String { try #require(metadata[key], "no metadata '\(key)'") }
        func object(_ key: String) throws -> JSONObject {
            let parsed = try JSONValue.parse(try value(key)).objectValue
            return try #require(parsed, "metadata '\(key)' is not a JSON object")
        }
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent(try value("model")), readingTokenizer: false)
        let settings = try GenerationConfig(model: model)
        let recorded = try object("generation_settings")
        #expect(recorded["decoder_start_token_id"]?.intValue == settings.decoderStartTokenId)
        #expect(recorded["eos_token_id"]?.intValue == settings.eosTokenId)
        #expect(recorded["pad_token_id"]?.intValue == settings.padTokenId)
        #expect(recorded["forced_eos_token_id"]?.intValue == settings.forcedEOSTokenId)

        let overrides = try LSGOverrides(json: try object("overrides"))
        let generation = GreedyGeneration(encoder: try Encoder(model: model, overrides: overrides),
                                          decoder: try Seq2SeqDecoder(model: model, overrides: overrides), settings: settings)
        let rows = try generation.generate(try EncoderInput(file: file),
                                           maxNewTokens: try #require(Int(try value("max_new_tokens"))))
        let expected = try file.int64s("sequences")
        let shape = try #require(file.info("sequences")?.shape)
        #expect(rows.map(\.count) == Array(repeating: shape[1], count: shape[0]))
        #expect(Array(rows.joined()) == expected)
    }

    @Test func forcedEOSEndsAFullLengthRowAndPadFollowsAFinishedOne() throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-bart-tiny-512"), readingTokenizer: false)
        let encoder = try Encoder(model: model)
        let decoder = try Seq2SeqDecoder(model: model)
        let input = try EncoderInput(inputIds: [0, 40, 41, 2, 0, 50, 51, 2], batchSize: 2, length: 4)
        let settings = try GenerationConfig(model: model)
        let plain = try GreedyGeneration(encoder: encoder, decoder: decoder, settings: settings).generate(input, maxNewTokens: 3)
        let forced = Int64(try #require(settings.forcedEOSTokenId))
        #expect(plain.allSatisfy { $0.count == 4 && $0.first == 2 && $0.last == forced })
        // With the first row's first greedy token as eos, that row pads after it, and generation
        // stops as soon as every row has its eos.
        let eos = plain[0][1]
        let early = GenerationConfig(decoderStartTokenId: 2, eosTokenId: Int(eos), padTokenId: 1, forcedEOSTokenId: nil)
        let rows = try GreedyGeneration(encoder: encoder, decoder: decoder, settings: early).generate(input, maxNewTokens: 3)
        #expect(rows[0][1] == eos && rows[0].dropFirst(2).allSatisfy { $0 == 1 })
        #expect(rows[0].count == (plain[1][1] == eos ? 2 : 4))
        let error = #expect(throws: LSGError.self) {
            try GreedyGeneration(encoder: encoder, decoder: decoder, settings: settings).generate(input, maxNewTokens: 0)
        }
        #expect(error?.description == "max_new_tokens must be at least 1 (got 0)")
    }
}
