/// Registers the stages every recipe can use.
enum BuiltInStages {
    static func register(in registry: StageRegistry) {
        func plain(_ name: String, _ make: @escaping @Sendable () -> any Stage) {
            registry.register(name) { parameters in
                try StageParameters(stage: name, parameters).allow([])
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
            let reader = try StageParameters(stage: LinkModelingCodeStage.stageName, parameters)
            try reader.allow(["repository"])
            return LinkModelingCodeStage(repository: try reader.string("repository"))
        }
        plain(CopyTokenizerStage.stageName) { CopyTokenizerStage() }
        plain(WriteCheckpointStage.stageName) { WriteCheckpointStage() }
        plain(WriteManifestStage.stageName) { WriteManifestStage() }
        plain(ValidateStage.stageName) { ValidateStage() }
        plain(WriteModelCardStage.stageName) { WriteModelCardStage() }
    }
}
