import ArgumentParser
import Checkpoint
import Foundation
import LSGEncoder
import SafeTensors

/// The LSG attention settings a command can override (shared by `convert`, `encode` and
/// `validate`); each left out keeps the checkpoint's value (for `convert`: the recipe's, then
/// the reference default named in the help).
struct LSGOptions: ParsableArguments {
    @Option(help: "Local attention block size (reference default 128).")
    var blockSize: Int?

    @Option(help: "Sparse attention block size; 0 disables sparse attention (reference default 128).")
    var sparseBlockSize: Int?

    @Option(help: "Sparsity factor; must divide the block size (reference default 2).")
    var sparsityFactor: Int?

    @Option(help: "Sparse selection: none, norm, pooling, lsh, stride, block_stride, bos_pooling (reference default norm).")
    var sparsityType: String?

    @Option(help: "Number of global tokens, 1 to 512 (reference default 1).")
    var numGlobalTokens: Int?

    @Flag(inversion: .prefixedNo, help: "Mask the first token (it duplicates the first global token).")
    var maskFirstToken: Bool?

    @Flag(inversion: .prefixedNo, help: "Copy the first global output onto the first token (reference default on).")
    var poolWithGlobal: Bool?

    @Flag(inversion: .prefixedNo, help: "Pad sequences to a block multiple automatically (reference default on).")
    var adaptive: Bool?

    @Option(help: "LSH pre-rounds (sparsity type lsh; reference default 1).")
    var lshNumPreRounds: Int?

    func validate() throws {
        if let sparsityType, SparsityType(rawValue: sparsityType) == nil {
            throw ValidationError("--sparsity-type must be one of " + SparsityType.allCases.map(\.rawValue).joined(separator: ", ")
                + " (got '\(sparsityType)')")
        }
        for (name, value, minimum) in [("--block-size", blockSize, 1), ("--sparse-block-size", sparseBlockSize, 0),
                                       ("--sparsity-factor", sparsityFactor, 1), ("--num-global-tokens", numGlobalTokens, 1),
                                       ("--lsh-num-pre-rounds", lshNumPreRounds, 0)] {
            if let value, value < minimum { throw ValidationError("\(name) must be at least \(minimum) (got \(value))") }
        }
    }

    var overrides: LSGOverrides {
        LSGOverrides(
            adaptive: adaptive, blockSize: blockSize, sparseBlockSize: sparseBlockSize, sparsityFactor: sparsityFactor,
            sparsityType: sparsityType.flatMap(SparsityType.init(rawValue:)), numGlobalTokens: numGlobalTokens,
            maskFirstToken: maskFirstToken, poolWithGlobal: poolWithGlobal, lshNumPreRounds: lshNumPreRounds)
    }
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
                throw EncoderError("\(normSelections): no tensor '\(RecordedNormSelections.tensorName(0))'")
            }
            recordedNorm = recorded
        }
        return EncodeOptions(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, lshProjections: source,
                             normSelections: recordedNorm)
    }
}

extension EncoderHead: ExpressibleByArgument {}
