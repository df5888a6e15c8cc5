import ArgumentParser
import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors
import SafeTensors

/// The LSG attention settings a command can override (shared by `convert`, `encode` and
/// `validate`); each left out keeps the checkpoint's value (for `convert`: the recipe's, then
/// the reference default named in the help).
struct LSGOptions: ParsableArguments {
    @Option(help: ArgumentHelp(LSGSetting.blockSize.help))
    var blockSize: Int?

    @Option(help: ArgumentHelp(LSGSetting.sparseBlockSize.help))
    var sparseBlockSize: Int?

    @Option(help: ArgumentHelp(LSGSetting.sparsityFactor.help))
    var sparsityFactor: Int?

    @Option(help: ArgumentHelp(LSGSetting.sparsityType.help))
    var sparsityType: String?

    @Option(help: ArgumentHelp(LSGSetting.numGlobalTokens.help))
    var numGlobalTokens: Int?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(LSGSetting.maskFirstToken.help))
    var maskFirstToken: Bool?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(LSGSetting.poolWithGlobal.help))
    var poolWithGlobal: Bool?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(LSGSetting.adaptive.help))
    var adaptive: Bool?

    @Option(help: ArgumentHelp(LSGSetting.lshNumPreRounds.help))
    var lshNumPreRounds: Int?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(LSGSetting.passGlobalTokensToDecoder.help))
    var passGlobalTokensToDecoder: Bool?

    /// Unknown names and values below a setting's minimum; a value above the maximum is left to
    /// the command, which words it as its conversion or encoder does.
    func validate() throws {
        let overrides: LSGOverrides
        do throws(LSGSettingProblem) {
            overrides = try settings()
        } catch {
            throw ValidationError(error.message(.flag))
        }
        let belowMinimum = overrides.problems.first { if case .belowMinimum = $0.kind { true } else { false } }
        if let belowMinimum { throw ValidationError(belowMinimum.message(.flag)) }
    }

    /// The settings given, as typed overrides.
    func settings() throws(LSGSettingProblem) -> LSGOverrides {
        var overrides = LSGOverrides()
        overrides[.blockSize] = blockSize.map(LSGSettingValue.integer)
        overrides[.sparseBlockSize] = sparseBlockSize.map(LSGSettingValue.integer)
        overrides[.sparsityFactor] = sparsityFactor.map(LSGSettingValue.integer)
        if let sparsityType {
            guard let type = SparsityType(rawValue: sparsityType) else { throw .unknownSparsityType(sparsityType) }
            overrides[.sparsityType] = .sparsityType(type)
        }
        overrides[.numGlobalTokens] = numGlobalTokens.map(LSGSettingValue.integer)
        overrides[.maskFirstToken] = maskFirstToken.map(LSGSettingValue.bool)
        overrides[.poolWithGlobal] = poolWithGlobal.map(LSGSettingValue.bool)
        overrides[.adaptive] = adaptive.map(LSGSettingValue.bool)
        overrides[.lshNumPreRounds] = lshNumPreRounds.map(LSGSettingValue.integer)
        overrides[.passGlobalTokensToDecoder] = passGlobalTokensToDecoder.map(LSGSettingValue.bool)
        return overrides
    }

    /// The settings given; `validate()` has refused an unknown sparsity type.
    var overrides: LSGOverrides { (try? settings()) ?? LSGOverrides() }
}

/// How a command runs the encoder: threads, LSH projections.
struct EncoderRunOptions: ParsableArguments {
    @Option(help: "Worker threads (results do not depend on it; default: all cores).")
    var threads: Int?

    @Option(help: "Seed of the LSH projections (sparsity type lsh).")
    var seed: UInt64 = 0

    @Option(help: "Replay LSH projections from a safetensors file (lsh.projection.0, 1, ...).")
    var lshProjections: String?

    @Option(help: "Replay norm sparse selections from a safetensors file (norm.selection.0, 1, ... per layer).")
    var normSelections: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
    }

    func encodeOptions() throws -> EncodeOptions {
        let source: LSHProjectionSource
        if let lshProjections {
            source = try LSHProjectionSource(recordedIn: SafeTensorsFile(contentsOf: URL(fileURLWithPath: lshProjections)))
        } else {
            source = .seeded(seed)
        }
        var recordedNorm: RecordedNormSelections?
        if let normSelections {
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: normSelections))
            guard let recorded = try RecordedNormSelections(recordedIn: file) else {
                throw LSGError(.missingTensor, "\(normSelections): no tensor '\(RecordedNormSelections.tensorName(0))'")
            }
            recordedNorm = recorded
        }
        return EncodeOptions(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, lshProjections: source,
                             normSelections: recordedNorm)
    }
}

extension EncoderHead: ExpressibleByArgument {}
