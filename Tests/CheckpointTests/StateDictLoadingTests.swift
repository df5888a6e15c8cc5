import Checkpoint
import Foundation
import SafeTensors
import Testing

/// The rules of transformers 4.36 `from_pretrained` that decide which checkpoint tensor fills
/// which tensor of a class (`ClassStateDict`), and the TF-era renaming the store applies.
struct StateDictLoadingTests {
    let maskedLM = Architecture(family: .roberta, head: .maskedLM)
    let base = Architecture(family: .roberta, head: .base)

    func load(_ architecture: Architecture, _ checkpoint: [String], tie: Bool = true) throws -> ClassStateDict {
        try ClassStateDict(expected: architecture.stateDictNames(layers: .unshared(1)),
                           tiedGroups: architecture.tiedGroups(tieWordEmbeddings: tie),
                           basePrefix: architecture.family.basePrefix, checkpoint: checkpoint)
    }

    func encoder(_ prefix: String) -> [String] {
        base.storedTensors(layers: .unshared(1), tieWordEmbeddings: true)
            .filter { !$0.contains("global_embeddings") && !$0.hasPrefix("pooler.") }
            .map { prefix + $0 }
    }

    @Test func stateDictNamesIncludeTiedCopiesInModuleOrder() {
        let names = maskedLM.stateDictNames(layers: .unshared(1))
        #expect(names.suffix(7) == ["lm_head.bias", "lm_head.dense.weight", "lm_head.dense.bias", "lm_head.layer_norm.weight",
                                    "lm_head.layer_norm.bias", "lm_head.decoder.weight", "lm_head.decoder.bias"])
        #expect(maskedLM.tiedGroups(tieWordEmbeddings: true) == [
            ["lm_head.bias", "lm_head.decoder.bias"], ["roberta.embeddings.word_embeddings.weight", "lm_head.decoder.weight"],
        ])
        #expect(maskedLM.tiedGroups(tieWordEmbeddings: false) == [["lm_head.bias", "lm_head.decoder.bias"]])
        let bert = Architecture(family: .bert, head: .preTraining).stateDictNames(layers: .unshared(1))
        let decoder = bert.firstIndex(of: "cls.predictions.decoder.weight")
        #expect(decoder.map { bert[$0 + 1] } == "cls.predictions.decoder.bias")
    }

    @Test func aBaseCheckpointFillsTheEncoderOfATaskClass() throws {
        let loading = try load(maskedLM, encoder("") + ["embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"])
        #expect(loading.sources["roberta.embeddings.word_embeddings.weight"] == "embeddings.word_embeddings.weight")
        #expect(loading.sources["lm_head.decoder.weight"] == "embeddings.word_embeddings.weight")
        #expect(loading.applied.contains(.basePrefixAdded))
        #expect(loading.unused == ["embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"])
        #expect(loading.missing.contains("lm_head.dense.weight") && loading.missing.contains("lm_head.bias"))
    }

    @Test func aTaskCheckpointLoadsIntoTheBaseClassWithoutItsHead() throws {
        let loading = try load(base, encoder("roberta.") + ["lm_head.bias", "lm_head.dense.weight"])
        #expect(loading.applied.first == .basePrefixStripped)
        #expect(loading.sources["encoder.layer.0.output.dense.bias"] == "roberta.encoder.layer.0.output.dense.bias")
        #expect(loading.unused == ["lm_head.bias", "lm_head.dense.weight"])
        #expect(loading.missing == ["embeddings.global_embeddings.weight", "pooler.dense.weight", "pooler.dense.bias"])
    }

    /// transformers raises "The state dictionary of the model you are trying to load is corrupted".
    @Test func aHeadBesideABareEncoderIsRefusedLikeTransformers() {
        let error = #expect(throws: ClassStateDictError.self) { try load(maskedLM, encoder("") + ["lm_head.dense.weight"]) }
        #expect(error?.rule == .corruptedStateDict && error?.name == "lm_head.dense.weight")
    }

    /// The prefix test is transformers' `startswith(prefix)`, without the dot.
    @Test func thePrefixTestIsAPlainStartsWith() throws {
        let loading = try load(maskedLM, encoder("") + ["roberta_extra"])
        #expect(!loading.applied.contains(.basePrefixAdded))
        #expect(loading.sources["roberta.embeddings.word_embeddings.weight"] == nil)
    }

    @Test func tiedParametersTakeTheHeadsValueWhenBothAreStored() throws {
        let both = try load(maskedLM, encoder("roberta.") + ["lm_head.decoder.weight", "lm_head.bias", "lm_head.decoder.bias"])
        #expect(both.sources["roberta.embeddings.word_embeddings.weight"] == "lm_head.decoder.weight")
        #expect(both.sources["lm_head.bias"] == "lm_head.decoder.bias")
        #expect(both.applied.contains(.tiedParameters))
        // Identical stored copies keep the encoder's own name as the source.
        let saved = try ClassStateDict(
            expected: maskedLM.stateDictNames(layers: .unshared(1)), tiedGroups: maskedLM.tiedGroups(tieWordEmbeddings: true),
            basePrefix: "roberta", checkpoint: encoder("roberta.") + ["lm_head.decoder.weight", "lm_head.bias"], identical: { _, _ in true })
        #expect(saved.sources["roberta.embeddings.word_embeddings.weight"] == "roberta.embeddings.word_embeddings.weight")
        #expect(saved.sources["lm_head.decoder.weight"] == "roberta.embeddings.word_embeddings.weight")
        let decoderBiasOnly = try load(maskedLM, encoder("roberta.") + ["lm_head.decoder.bias"])
        #expect(decoderBiasOnly.sources["lm_head.bias"] == "lm_head.decoder.bias")
        let untied = try load(maskedLM, encoder("roberta.") + ["lm_head.decoder.weight"], tie: false)
        #expect(untied.sources["roberta.embeddings.word_embeddings.weight"] == "roberta.embeddings.word_embeddings.weight")
        #expect(untied.sources["lm_head.decoder.weight"] == "lm_head.decoder.weight")
    }

    @Test func legacyNormNamesAreRenamedLikeTransformers() {
        #expect(StateDictRule.modernName("bert.embeddings.LayerNorm.gamma") == "bert.embeddings.LayerNorm.weight")
        #expect(StateDictRule.modernName("bert.embeddings.LayerNorm.beta") == "bert.embeddings.LayerNorm.bias")
        #expect(StateDictRule.modernName("bert.embeddings.LayerNorm.weight") == nil)
        // Both replacements start from the original name; the beta one is kept.
        #expect(StateDictRule.modernName("gamma.beta") == "gamma.bias")
        #expect(StateDictRule.allCases.allSatisfy { !$0.transformersBehaviour.isEmpty })
    }

    @Test func theStoreLoadsTFEraNamesUnderTheirModernNames() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("StateDictLoadingTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var writer = SafeTensorsWriter()
        let gamma: [Float] = [1, 2], beta: [Float] = [3, 4], plain: [Float] = [5, 6]
        for (name, values) in [("a.LayerNorm.gamma", gamma), ("a.LayerNorm.beta", beta), ("a.LayerNorm.weight", plain), ("b.weight", plain)] {
            try writer.add(name, floats: values, shape: [2])
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        let store = try TensorStore(directory: directory)
        #expect(Set(store.names) == ["a.LayerNorm.weight", "a.LayerNorm.bias", "b.weight"])
        #expect(store.names.count == 3)
        // The renamed tensor replaces the one that already had its new name.
        #expect(try store.floats("a.LayerNorm.weight") == gamma)
        #expect(try store.floats("a.LayerNorm.bias") == beta)
        #expect(store.nameInFile("a.LayerNorm.weight") == "a.LayerNorm.gamma")
        #expect(store.nameInFile("b.weight") == nil)
        #expect(store.info("a.LayerNorm.bias")?.name == "a.LayerNorm.bias")
    }
}
