import FileIO
import Foundation
import JSON
import LSGErrors

/// Collects tensors (name, dtype, shape and a closure that produces the bytes) and writes a
/// safetensors file byte-identical to Python `safetensors.save_file` (0.4 to 0.8): header
/// `{"__metadata__":{...},"<name>":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}` in
/// compact JSON padded with spaces to a multiple of 8, tensors ordered by dtype (larger first,
/// the Rust crate's order) then name, packed without gaps. Tensor bytes stream from the closures
/// to disk one tensor at a time.
public struct SafeTensorsWriter: Sendable {
    /// Receives the tensor's bytes, in order, in as many pieces as the closure likes.
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void
    public typealias Producer = @Sendable (_ sink: Sink) throws -> Void
    /// Sees every byte written to a weights file, in order, with the file's name (for example
    /// to hash the file while it is written).
    public typealias Observer = (_ fileName: String, _ bytes: UnsafeRawBufferPointer) throws -> Void

    struct Entry: Sendable {
        let name: String
        let dtype: DType
        let shape: [Int]
        let byteCount: Int
        let write: Producer
    }

    /// String metadata stored as `__metadata__`, keys sorted by code point (nil: no entry).
    public let metadata: [String: String]?
    /// In the order added (sharding follows it).
    private(set) var entries: [Entry] = []
    private var names: Set<String> = []

    public init(metadata: [String: String]? = nil) {
        self.metadata = metadata
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    private static func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError {
        LSGError(kind, file: "safetensors writer", problem)
    }

    /// Adds a tensor whose `write` closure must pass exactly the declared byte count to its sink
    /// when the file is written.
    public mutating func add(_ name: String, dtype: DType, shape: [Int], write: @escaping Producer) throws {
        guard name != "__metadata__" else { throw Self.fail(.invalidInput, "'__metadata__' cannot be a tensor name") }
        guard !names.contains(name) else { throw Self.fail(.invalidInput, "tensor '\(name)' is added twice") }
        if let negative = shape.first(where: { $0 < 0 }) {
            throw Self.fail(.invalidInput, "tensor '\(name)' shape \(shape) has a negative dimension \(negative)")
        }
        guard let elements = checkedElementCount(shape), let byteCount = dtype.byteCount(elements: elements) else {
            throw Self.fail(.invalidInput, "tensor '\(name)' shape \(shape) of \(dtype) has no whole, 64-bit byte size")
        }
        names.insert(name)
        entries.append(Entry(name: name, dtype: dtype, shape: shape, byteCount: byteCount, write: write))
    }

    /// Adds Float values stored as `dtype` (F32, F16, BF16 or F64); conversion happens while
    /// writing, in chunks.
    public mutating func add(_ name: String, floats: [Float], shape: [Int], as dtype: DType = .f32) throws {
        guard let elements = checkedElementCount(shape), elements == floats.count else {
            throw Self.fail(.shapeMismatch, "tensor '\(name)' has \(floats.count) values but shape \(shape)")
        }
        let producer: Producer
        switch dtype {
        case .f32:
            producer = { sink in try floats.withUnsafeBytes { try sink($0) } }
        case .f16, .bf16, .f64:
            producer = { sink in try Self.writeConverted(floats, as: dtype, to: sink) }
        default:
            throw Self.fail(.unsupported, "tensor '\(name)' cannot store Float values as \(dtype)")
        }
        try add(name, dtype: dtype, shape: shape, write: producer)
    }

    private static func writeConverted(_ floats: [Float], as dtype: DType, to sink: Sink) throws {
        let chunk = 1 << 16
        let width = dtype.bitWidth / 8
        var scratch = [UInt8](repeating: 0, count: chunk * width)
        try floats.withUnsafeBufferPointer { values in
            var start = 0
            while start < values.count {
                let end = min(start + chunk, values.count)
                let slice = UnsafeBufferPointer(rebasing: values[start..<end])
                try scratch.withUnsafeMutableBytes { raw in
                    switch dtype {
                    case .f16: FloatConversion.narrowToF16(slice, into: raw)
                    case .bf16: FloatConversion.narrowToBF16(slice, into: raw)
                    default:
                        for (index, value) in slice.enumerated() {
                            raw.storeBytes(of: Double(value).bitPattern.littleEndian, toByteOffset: index * 8, as: UInt64.self)
                        }
                    }
                    try sink(UnsafeRawBufferPointer(rebasing: raw[0..<(slice.count * width)]))
                }
                start = end
            }
        }
    }

    /// The order and offsets the file will have, and the bytes before the data section
    /// (8-byte length + padded JSON header). Writes nothing.
    public func plannedLayout() -> (headerSize: Int, tensors: [TensorInfo]) {
        let layout = Self.layout(entries, metadata: metadata)
        return (8 + layout.header.count, layout.tensors)
    }

    /// Writes all tensors to `url` through a temporary file in the same directory.
    public func write(to url: URL, observer: Observer? = nil) throws {
        let output = try AtomicFileOutput(target: url)
        try Self.write(entries, metadata: metadata, to: output, observer: observer)
        try output.finish()
        try output.rename()
    }

    /// One file `writeSharded` will write: its name, the tensors it holds (in file order, with
    /// their offsets) and its size.
    public struct PlannedShard: Sendable {
        public let fileName: String
        /// Bytes before the data section (8-byte length + padded JSON header).
        public let headerSize: Int
        public let tensors: [TensorInfo]
        public var byteCount: Int { headerSize + (tensors.last?.dataOffsets.upperBound ?? 0) }
    }

    /// The files `writeSharded(to:maxShardBytes:)` would write (or, with nil, `write` to
    /// `model.safetensors`), computed without writing: the split transformers' `shard_checkpoint`
    /// makes (in the order added, a new shard when the next tensor would push the current one
    /// past `maxShardBytes` and it is not empty), named `model-0000i-of-0000n.safetensors`, or
    /// `model.safetensors` when there is one shard. The index file is not included.
    public func plannedShards(maxShardBytes: Int?) throws -> [PlannedShard] {
        try shards(maxShardBytes: maxShardBytes).map { name, shard in
            let layout = Self.layout(shard, metadata: metadata)
            return PlannedShard(fileName: name, headerSize: 8 + layout.header.count, tensors: layout.tensors)
        }
    }

    private func shards(maxShardBytes: Int?) throws -> [(fileName: String, entries: [Entry])] {
        guard let maxShardBytes else { return [(Self.singleFileName, entries)] }
        guard maxShardBytes > 0 else { throw Self.fail(.invalidOption, "maximum shard size \(maxShardBytes) is not positive") }
        var shards: [[Entry]] = [[]]
        var shardBytes = 0
        for entry in entries {
            if shardBytes + entry.byteCount > maxShardBytes && !shards[shards.count - 1].isEmpty {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(entry)
            shardBytes += entry.byteCount
        }
        if shards.count == 1 { return [(Self.singleFileName, shards[0])] }
        return shards.enumerated().map { index, shard in
            (String(format: "model-%05d-of-%05d.safetensors", index + 1, shards.count), shard)
        }
    }

    static let singleFileName = "model.safetensors"

    /// Writes the files `plannedShards(maxShardBytes:)` lists into `directory`, plus
    /// `model.safetensors.index.json` when there are several (with a single shard: only
    /// `model.safetensors` and no index, like transformers). Returns the files written, index
    /// last. Every file goes through a temporary name; none is renamed into place until all
    /// are complete.
    @discardableResult
    public func writeSharded(to directory: URL, maxShardBytes: Int, observer: Observer? = nil) throws -> [URL] {
        let shards = try shards(maxShardBytes: maxShardBytes)
        if shards.count == 1 {
            let url = directory.appendingPathComponent(Self.singleFileName)
            try write(to: url, observer: observer)
            return [url]
        }

        var outputs: [AtomicFileOutput] = []
        var weightMap = JSONObject()
        var totalSize = 0
        for (fileName, shard) in shards {
            let output = try AtomicFileOutput(target: directory.appendingPathComponent(fileName))
            outputs.append(output)
            try Self.write(shard, metadata: metadata, to: output, observer: observer)
            try output.finish()
            for entry in shard {
                weightMap[entry.name] = .string(fileName)
                totalSize += entry.byteCount
            }
        }
        let index: JSONValue = ["metadata": ["total_size": .int(totalSize)], "weight_map": .object(weightMap)]
        let indexOutput = try AtomicFileOutput(target: directory.appendingPathComponent(SafeTensorsIndex.defaultFileName))
        try indexOutput.write(Array((index.pythonJSONString(indent: 2, sortKeys: true) + "\n").utf8))
        try indexOutput.finish()
        outputs.append(indexOutput)
        for output in outputs { try output.rename() }
        return outputs.map(\.target)
    }

    // MARK: Layout and writing

    private static func layout(_ entries: [Entry], metadata: [String: String]?) -> (header: [UInt8], order: [Entry], tensors: [TensorInfo]) {
        let order = entries.sorted { left, right in
            if left.dtype.writeRank != right.dtype.writeRank { return left.dtype.writeRank > right.dtype.writeRank }
            return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
        }
        var header = JSONObject()
        if let metadata {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            header["__metadata__"] = .object(JSONObject(keys.map { ($0, JSONValue.string(metadata[$0]!)) }))
        }
        var tensors: [TensorInfo] = []
        var offset = 0
        for entry in order {
            let range = offset..<(offset + entry.byteCount)
            tensors.append(TensorInfo(name: entry.name, dtype: entry.dtype, shape: entry.shape, dataOffsets: range))
            header[entry.name] = [
                "dtype": .string(entry.dtype.rawValue),
                "shape": .array(entry.shape.map { .int($0) }),
                "data_offsets": [.int(range.lowerBound), .int(range.upperBound)],
            ]
            offset = range.upperBound
        }
        var bytes = Array(JSONValue.object(header).compactString().utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        return (bytes, order, tensors)
    }

    private static func write(_ entries: [Entry], metadata: [String: String]?, to output: AtomicFileOutput,
                              observer: Observer?) throws {
        let fileName = output.target.lastPathComponent
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            try output.write(bytes)
            try observer?(fileName, bytes)
        }
        let layout = layout(entries, metadata: metadata)
        try withUnsafeBytes(of: UInt64(layout.header.count).littleEndian) { try write($0) }
        try layout.header.withUnsafeBytes { try write($0) }
        for entry in layout.order {
            let start = output.bytesWritten
            try entry.write { bytes in
                let written = output.bytesWritten - start + bytes.count
                guard written <= entry.byteCount else {
                    throw LSGError(.internal, file: output.target.path, "tensor '\(entry.name)' wrote more than its \(entry.byteCount) bytes")
                }
                try write(bytes)
            }
            let written = output.bytesWritten - start
            guard written == entry.byteCount else {
                throw LSGError(.internal, file: output.target.path, "tensor '\(entry.name)' wrote \(written) bytes, expected \(entry.byteCount)")
            }
        }
    }
}
