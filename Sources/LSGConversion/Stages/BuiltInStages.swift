import Golden

/// Registers the stages every recipe can use.
enum BuiltInStages {
    static func register(in registry: StageRegistry) {
        func plain(_ name: String, _ make: @escaping @Sendable () -> any Stage) {
            registry.register(name) { parameters in
                try parameters.allow([])
                return make()
            }
        }
        plain(ResolveSourceStage.stageName) { ResolveSourceStage() }
        plain(ReadConfigStage.stageName) { ReadConfigStage() }
        plain(MapArchitectureStage.stageName) { MapArchitectureStage() }
        plain(ExtendPositionsStage.stageName) { ExtendPositionsStage() }
        plain(AddGlobalEmbeddingsStage.stageName) { AddGlobalEmbeddingsStage() }
        plain(CheckFiniteStage.stageName) { CheckFiniteStage() }
        plain(WriteConfigStage.stageName) { WriteConfigStage() }
        registry.register(LinkModelingCodeStage.stageName) { parameters in
            try parameters.allow(["repository"])
            return LinkModelingCodeStage(repository: try parameters.string("repository"))
        }
        plain(CopyTokenizerStage.stageName) { CopyTokenizerStage() }
        plain(WriteCheckpointStage.stageName) { WriteCheckpointStage() }
        plain(WriteManifestStage.stageName) { WriteManifestStage() }
        plain(ValidateStage.stageName) { ValidateStage() }
        registry.register(ValidateEncoderStage.stageName) { parameters in
            try parameters.allow(["golden", "min_cosine", "min_token_cosine", "min_top1", "min_decoder_top1", "probe_length", "probe_text"])
            return ValidateEncoderStage(
                goldenFiles: try parameters.paths("golden"),
                minimumMeanCosine: try parameters.double("min_cosine") ?? ParityProbe.defaultMinimumMeanCosine,
                minimumTokenCosine: try parameters.double("min_token_cosine") ?? ParityProbe.defaultMinimumTokenCosine,
                minimumTop1Agreement: try parameters.double("min_top1"),
                minimumDecoderAgreement: try parameters.double("min_decoder_top1") ?? ParityProbe.defaultMinimumDecoderAgreement,
                probeLength: try parameters.int("probe_length"),
                probeText: try parameters.path("probe_text"))
        }
        plain(WriteModelCardStage.stageName) { WriteModelCardStage() }
    }
}
