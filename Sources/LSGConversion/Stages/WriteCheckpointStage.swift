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
        let store = try context.requireSource().tensors
        let planned = context.tensors.tensors
        let maxShardBytes = try context.options.maxShardSize ?? Self.sourceShardSize(store)
        let progress = ProgressCounter(tensorCount: planned.count, byteCount: planned.reduce(0) { $0 + $1.byteCount },
                                       report: context.progress)

        var writers: [SafeTensorsWriter] = []
        var current = SafeTensorsWriter(metadata: Self.metadata)
        var currentBytes = 0
        var all = SafeTensorsWriter(metadata: Self.metadata)
        for tensor in planned {
            let producer: SafeTensorsWriter.Producer = { sink in
                try tensor.write(from: store, to: { bytes in
                    try sink(bytes)
                    progress.add(bytes: bytes.count)
                })
                progress.finishTensor()
            }
            try all.add(tensor.name, dtype: tensor.dtype, shape: tensor.shape, write: producer)
            // The same split as the writer's, to plan shard files without writing.
            if let maxShardBytes, currentBytes + tensor.byteCount > maxShardBytes, !current.isEmpty {
                writers.append(current)
                current = SafeTensorsWriter(metadata: Self.metadata)
                currentBytes = 0
            }
            try current.add(tensor.name, dtype: tensor.dtype, shape: tensor.shape, write: producer)
            currentBytes += tensor.byteCount
        }
        writers.append(current)

        if writers.count == 1 {
            let layout = all.plannedLayout()
            let size = layout.headerSize + (layout.tensors.last?.dataOffsets.upperBound ?? 0)
            context.plan(PlannedFile(name: "model.safetensors", byteCount: size, role: "weights (\(planned.count) tensors)"))
        } else {
            var weightMap = 0
            for (index, writer) in writers.enumerated() {
                let layout = writer.plannedLayout()
                let size = layout.headerSize + (layout.tensors.last?.dataOffsets.upperBound ?? 0)
                let file = String(format: "model-%05d-of-%05d.safetensors", index + 1, writers.count)
                context.plan(PlannedFile(name: file, byteCount: size, role: "weights shard \(index + 1)/\(writers.count) (\(writer.count) tensors)"))
                weightMap += writer.count
            }
            context.plan(PlannedFile(name: SafeTensorsIndex.defaultFileName, byteCount: 0, role: "shard index (\(weightMap) tensors)"))
        }
        guard let directory = context.stagingDirectory else { return }
        do {
            if let maxShardBytes {
                let urls = try all.writeSharded(to: directory, maxShardBytes: maxShardBytes)
                for url in urls where url.lastPathComponent == SafeTensorsIndex.defaultFileName {
                    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                    context.plan(PlannedFile(name: url.lastPathComponent, byteCount: size, role: "shard index"))
                }
            } else {
                try all.write(to: directory.appendingPathComponent("model.safetensors"))
            }
        } catch let error as SafeTensorsError {
            throw ConversionError(error.description)
        }
        let files = writers.count == 1 ? "model.safetensors" : "\(writers.count) shards"
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
