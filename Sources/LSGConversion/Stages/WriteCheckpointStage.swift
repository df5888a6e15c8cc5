import Checkpoint
import Foundation
import SafeTensors

/// Writes the planned tensors with the safetensors writer (`{"format": "pt"}` metadata, as
/// transformers): `model.safetensors`, or shards plus an index when `--max-shard-size` is
/// given or the source was sharded (then its largest shard sets the size). Tensors stream from
/// the source one at a time; the plan's order is the `state_dict` order shards follow.
public struct WriteCheckpointStage: Stage {
    public static let stageName = "write-checkpoint"
    public var name: String { Self.stageName }
    public static let metadata = ["format": "pt"]

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let source = try context.requireSource()
        let store = source.tensors
        let planned = context.tensors.tensors
        let maxShardBytes = try context.options.maxShardSize ?? Self.sourceShardSize(store)
        let progress = ProgressCounter(tensorCount: planned.count, byteCount: planned.reduce(0) { $0 + $1.byteCount },
                                       report: context.progress)
        // Hashes of the written files and tensors for the manifest, made on a second core.
        let hasher = context.isDryRun ? nil : StreamHasher()
        defer {
            if let digests = hasher?.finish() {
                context.writtenTensorDigests = digests.tensors
                context.writtenFileDigests = digests.files
            }
        }
        var writer = SafeTensorsWriter(metadata: Self.metadata)
        for tensor in planned {
            try writer.add(tensor.name, dtype: tensor.dtype, shape: tensor.shape) { sink in
                hasher?.beginTensor(tensor.name)
                try tensor.write(from: store, to: { bytes in
                    try sink(bytes)
                    progress.add(bytes: bytes.count)
                })
                hasher?.endTensor()
                progress.finishTensor()
            }
        }
        let shards: [SafeTensorsWriter.PlannedShard]
        shards = try writer.plannedShards(maxShardBytes: maxShardBytes)
        if shards.count == 1 {
            context.plan(PlannedFile(name: shards[0].fileName, byteCount: shards[0].byteCount,
                                     role: "weights (\(planned.count) tensors)"))
        } else {
            for (index, shard) in shards.enumerated() {
                context.plan(PlannedFile(name: shard.fileName, byteCount: shard.byteCount,
                                         role: "weights shard \(index + 1)/\(shards.count) (\(shard.tensors.count) tensors)"))
            }
            context.plan(PlannedFile(name: SafeTensorsIndex.defaultFileName, byteCount: 0, role: "shard index (\(planned.count) tensors)"))
        }
        guard let directory = context.stagingDirectory, let hasher else { return }
        // The manifest also needs the sha256 of every source file: another core hashes them
        // while this one writes.
        context.sourceFileDigests = FileDigests(hashing: WeightManifest.sourceFileNames(of: source)
            .map { source.url.appendingPathComponent($0) })
        let observer: SafeTensorsWriter.Observer = { file, bytes in hasher.add(file: file, bytes: bytes) }
        if let maxShardBytes {
            let urls = try writer.writeSharded(to: directory, maxShardBytes: maxShardBytes, observer: observer)
            for url in urls where url.lastPathComponent == SafeTensorsIndex.defaultFileName {
                let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                context.plan(PlannedFile(name: url.lastPathComponent, byteCount: size, role: "shard index"))
            }
        } else {
            try writer.write(to: directory.appendingPathComponent(shards[0].fileName), observer: observer)
        }
        let files = shards.count == 1 ? shards[0].fileName : "\(shards.count) shards"
        context.report.changes.append("weights: \(planned.count) tensors, \(progress.snapshot.bytesWritten) bytes in \(files)")
    }

    /// Data bytes of the largest source shard, when the source is sharded.
    static func sourceShardSize(_ store: TensorStore) throws -> Int? {
        guard store.isSharded else { return nil }
        return store.files.map { $0.tensors.reduce(0) { $0 + $1.byteCount } }.max()
    }
}

/// Counts tensors and bytes written and forwards them to the progress callback.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var state: WriteProgress
    private let report: (@Sendable (WriteProgress) -> Void)?

    init(tensorCount: Int, byteCount: Int, report: (@Sendable (WriteProgress) -> Void)?) {
        state = WriteProgress(tensorsWritten: 0, tensorCount: tensorCount, bytesWritten: 0, byteCount: byteCount)
        self.report = report
    }

    var snapshot: WriteProgress { lock.withLock { state } }

    func add(bytes: Int) {
        lock.withLock { state.bytesWritten += bytes }
    }

    func finishTensor() {
        let current = lock.withLock {
            state.tensorsWritten += 1
            return state
        }
        report?(current)
    }
}
