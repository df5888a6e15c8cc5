import Checkpoint
import Foundation
import JSON
import LSGConversion
import LSGErrors
import SafeTensors
import Testing

/// Bad input gets a one-line error naming the problem, and leaves nothing behind: no output,
/// no temporary directory, the source untouched.
struct ConversionErrorTests {
    /// Runs a conversion expected to fail; checks the message and that nothing was left behind.
    func expectFailure(_ conversion: Conversion, scratch: URL, source: URL? = nil, containing fragment: String,
                       kind: LSGError.Kind? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try source.map(snapshot)
        let listingBefore = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        let error = #expect(throws: (any Error).self, sourceLocation: sourceLocation) { try conversion.run() }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation)
        #expect(!message.contains("\n"), "one line: \(message)", sourceLocation: sourceLocation)
        if let kind { #expect((error as? LSGError)?.kind == kind, "\(message)", sourceLocation: sourceLocation) }
        let listingAfter = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(listingAfter == listingBefore, "nothing left behind in \(scratch.path)", sourceLocation: sourceLocation)
        if let source { #expect(try snapshot(source) == before, "source unchanged", sourceLocation: sourceLocation) }
    }

    func snapshot(_ directory: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            result[name] = try ConversionFixtures.sha256(of: directory.appendingPathComponent(name))
        }
        return result
    }

    func editConfig(_ source: URL, _ edit: (inout JSONObject) -> Void) throws {
        let url = source.appendingPathComponent("config.json")
        var object = try #require(try JSONValue.load(contentsOf: url).objectValue)
        edit(&object)
        try Data(JSONValue.object(object).pythonJSONString().utf8).write(to: url)
    }

    @Test func unsupportedModelType() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("camembert-tiny", into: scratch)
        try editConfig(source) { $0["model_type"] = "gpt2" }
        let conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out")) { _ in }
        var anyFamily = conversion
        anyFamily.recipe = .standard(for: nil)
        try expectFailure(anyFamily, scratch: scratch, source: source, containing: "model_type 'gpt2' is not supported", kind: .unsupported)
    }

    @Test func relativePositionEmbeddings() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("bert-tiny", into: scratch)
        try editConfig(source) { $0["position_embedding_type"] = "relative_key" }
        let conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out"))
        try expectFailure(conversion, scratch: scratch, source: source, containing: "position_embedding_type 'relative_key' is not supported", kind: .unsupported)
    }

    @Test func missingTensor() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("roberta-tiny", into: scratch)
        // Rewrite the weights without one encoder tensor.
        let file = try SafeTensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        let dropped = "roberta.encoder.layer.1.attention.self.key.weight"
        for tensor in file.tensors where tensor.name != dropped {
            try writer.add(tensor.name, floats: try file.floats(tensor.name), shape: tensor.shape)
        }
        try writer.write(to: source.appendingPathComponent("model.safetensors"))
        let conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out"))
        try expectFailure(conversion, scratch: scratch, source: source, containing: "missing 1 tensor(s) RobertaForMaskedLM needs: \(dropped)")
    }

    @Test func noWeights() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("roberta-tiny", into: scratch)
        try FileManager.default.removeItem(at: source.appendingPathComponent("model.safetensors"))
        let conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out"))
        try expectFailure(conversion, scratch: scratch, source: source, containing: "no model.safetensors")
    }

    enum BadOption: String, CaseIterable, Sendable {
        case indivisibleBlock, zeroLength, tooManyGlobals, maskWithoutPooling, keepFirstWithResize
        case zeroStride, strideNotDividing512, foreignArchitecture, integerDType

        var expectedMessage: String {
            switch self {
            case .indivisibleBlock: "block size 100 is not divisible by sparsity factor 3"
            case .zeroLength: "max length must be positive"
            case .tooManyGlobals: "number of global tokens must be between 1 and 512"
            case .maskWithoutPooling: "--mask-first-token needs pooling"
            case .keepFirstWithResize: "--keep-first-global-token has no effect with --resize-lsg"
            case .zeroStride: "global stride must be positive"
            case .strideNotDividing512: "--global-stride 48 does not fit"
            case .foreignArchitecture: "architecture 'BertForMaskedLM' is not a camembert class"
            case .integerDType: "output dtype must be F32, F16 or BF16"
            }
        }

        func apply(to options: inout ConversionOptions) {
            switch self {
            case .indivisibleBlock: options.lsg[.blockSize] = .integer(100); options.lsg[.sparsityFactor] = .integer(3)
            case .zeroLength: options.maxLength = 0
            case .tooManyGlobals: options.lsg[.numGlobalTokens] = .integer(513)
            case .maskWithoutPooling: options.lsg[.maskFirstToken] = .bool(true); options.lsg[.poolWithGlobal] = .bool(false)
            case .keepFirstWithResize: options.resizeLSG = true; options.keepFirstGlobalToken = true
            case .zeroStride: options.globalStride = 0
            case .strideNotDividing512: options.globalStride = 48
            case .foreignArchitecture: options.architecture = "BertForMaskedLM"
            case .integerDType: options.dtype = .i64
            }
        }
    }

    /// Typed options cannot hold an unknown sparsity type: reading the options refuses it.
    @Test func unknownSparsityTypeInOptions() throws {
        let error = #expect(throws: LSGError.self) { try ConversionOptions(json: ["sparsity_type": "fancy"]) }
        #expect(error?.description.hasPrefix("unknown sparsity type 'fancy' (one of none, norm,") == true)
    }

    @Test("bad option combinations", arguments: BadOption.allCases)
    func badOptions(_ option: BadOption) throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = ConversionFixtures.fixtures.appendingPathComponent("camembert-tiny")
        let conversion = try ConversionFixtures.conversion(source: source, output: scratch.appendingPathComponent("out"),
                                                           configure: option.apply(to:))
        try expectFailure(conversion, scratch: scratch, source: source, containing: option.expectedMessage)
    }

    @Test func nonEmptyOutputIsRefused() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: false)
        try Data("keep me".utf8).write(to: output.appendingPathComponent("notes.txt"))
        let conversion = try ConversionFixtures.conversion(source: ConversionFixtures.fixtures.appendingPathComponent("bert-tiny"), output: output)
        try expectFailure(conversion, scratch: scratch, containing: "output directory is not empty (use --force to replace it)")
        #expect(try String(contentsOf: output.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")

        var forced = conversion
        forced.force = true
        try forced.run()
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("notes.txt").path))
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["out"])
    }

    @Test func outputInsideTheSourceIsRefused() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = try ConversionFixtures.copyFixture("xlm-roberta-tiny", into: scratch)
        for output in [source, source.appendingPathComponent("lsg"), scratch] {
            var conversion = try ConversionFixtures.conversion(source: source, output: output)
            conversion.force = true
            try expectFailure(conversion, scratch: scratch, source: source, containing: "must not be, contain or lie inside the source")
        }
    }

    @Test func failureInALateStageLeavesNothing() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        struct Explode: Stage {
            var name: String { "explode" }
            func run(_ context: ConversionContext) throws { throw LSGError(.internal, "boom after writing") }
        }
        let registry = StageRegistry()
        registry.register("explode") { _ in Explode() }
        let output = scratch.appendingPathComponent("nested/deeper/out")
        var conversion = try ConversionFixtures.conversion(source: ConversionFixtures.fixtures.appendingPathComponent("bert-tiny"), output: output)
        conversion.registry = registry
        conversion.recipe.stages.append(.init("explode"))
        try expectFailure(conversion, scratch: scratch, containing: "boom after writing")
    }

    @Test func unknownSourceSaysWhereItLooked() throws {
        let scratch = try ConversionFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var conversion = try ConversionFixtures.conversion(source: ConversionFixtures.fixtures.appendingPathComponent("bert-tiny"),
                                                    output: scratch.appendingPathComponent("out"))
        conversion.options.source = "example-org/not-there"
        conversion.locator = ModelLocator(environment: ["HF_HUB_CACHE": scratch.appendingPathComponent("hub").path],
                                          currentDirectory: scratch)
        try expectFailure(conversion, scratch: scratch,
                          containing: "no snapshot in \(scratch.path)/hub/models--example-org--not-there")
    }
}
