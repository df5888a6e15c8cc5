import Checkpoint
import Foundation
import LSGErrors
import SafeTensors

/// Where an output tensor's values come from. Nothing is loaded when the plan is made: source
/// bytes are read (memory-mapped) and computed values produced only while the writer streams.
public enum TensorContent: Sendable {
    /// The bytes of a source tensor, unchanged.
    case source(String)
    /// Rows (first dimension) of a source tensor, gathered in the given order; byte-exact for any dtype.
    case rows(of: String, indices: [Int])
    /// Values computed on demand, stored in the tensor's dtype.
    case computed(@Sendable () throws -> [Float])
}

/// How an output tensor came to be, for the manifest and the plan.
public struct Provenance: Sendable, Hashable, Codable {
    /// `copied`, `renamed`, `tiled`, `initialized`, `sampled`, `kept`...
    public var operation: String
    /// The source tensors it was made from.
    public var inputs: [String]
    /// The stage that decided it.
    public var stage: String
    /// A short human description (rule, parameters).
    public var detail: String?

    public init(operation: String, inputs: [String], stage: String, detail: String? = nil) {
        self.operation = operation
        self.inputs = inputs
        self.stage = stage
        self.detail = detail
    }
}

/// One tensor of the output checkpoint.
public struct PlannedTensor: Sendable {
    public var name: String
    /// Stored dtype.
    public var dtype: DType
    public var shape: [Int]
    public var content: TensorContent
    public var provenance: Provenance

    public init(name: String, dtype: DType, shape: [Int], content: TensorContent, provenance: Provenance) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.content = content
        self.provenance = provenance
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { dtype.byteCount(elements: elementCount) ?? 0 }
}

/// The output tensors in `state_dict` order (the order transformers shards in), by name.
public struct TensorMap: Sendable {
    public private(set) var tensors: [PlannedTensor] = []
    private var positions: [String: Int] = [:]

    public init() {}

    public var names: [String] { tensors.map(\.name) }
    public var count: Int { tensors.count }

    public subscript(name: String) -> PlannedTensor? {
        positions[name].map { tensors[$0] }
    }

    /// Adds a tensor at the end, or replaces the one with the same name in place.
    public mutating func set(_ tensor: PlannedTensor) {
        if let position = positions[tensor.name] {
            tensors[position] = tensor
        } else {
            positions[tensor.name] = tensors.count
            tensors.append(tensor)
        }
    }

    public mutating func remove(_ name: String) {
        guard let position = positions.removeValue(forKey: name) else { return }
        tensors.remove(at: position)
        for index in position..<tensors.count { positions[tensors[index].name] = index }
    }

    public mutating func removeAll() {
        tensors = []
        positions = [:]
    }
}

extension PlannedTensor {
    /// Streams the stored bytes of this tensor to `sink`, reading source bytes from `store` in
    /// bounded pieces whose mapped pages are released once written.
    func write(from store: TensorStore, to sink: SafeTensorsWriter.Sink) throws {
        switch content {
        case .source(let name):
            guard let info = store.info(name) else { throw LSGError(.missingTensor, "source has no tensor '\(name)'") }
            if info.dtype == dtype {
                try store.forEachChunk(of: name, sink)
            } else {
                try store.forEachFloatChunk(of: name) { try Self.stream($0, as: dtype, to: sink) }
            }
        case .rows(let name, let indices):
            guard let info = store.info(name), let rows = info.shape.first, rows > 0 else {
                throw LSGError(.missingTensor, "source has no tensor '\(name)' with rows")
            }
            if info.dtype == dtype {
                let rowBytes = info.byteCount / rows
                try store.withBytes(of: name) { bytes in
                    for row in indices {
                        try sink(UnsafeRawBufferPointer(rebasing: bytes[(row * rowBytes)..<((row + 1) * rowBytes)]))
                    }
                }
                try store.releasePages(of: name)
            } else {
                let values = try store.floats(name)
                let width = info.elementCount / rows
                var gathered: [Float] = []
                gathered.reserveCapacity(indices.count * width)
                for row in indices { gathered += values[(row * width)..<((row + 1) * width)] }
                try gathered.withUnsafeBufferPointer { try Self.stream($0, as: dtype, to: sink) }
            }
        case .computed(let produce):
            let values = try produce()
            guard values.count == elementCount else {
                throw LSGError(.shapeMismatch, "tensor '\(name)' was computed with \(values.count) values, expected \(elementCount)")
            }
            try values.withUnsafeBufferPointer { try Self.stream($0, as: dtype, to: sink) }
        }
    }

    /// Writes Float values in a float dtype, in chunks (the same conversion as the writer's).
    static func stream(_ all: UnsafeBufferPointer<Float>, as dtype: DType, to sink: SafeTensorsWriter.Sink) throws {
        switch dtype {
        case .f32:
            try sink(UnsafeRawBufferPointer(all))
        case .f16, .bf16:
            let chunk = 1 << 16
            var scratch = [UInt8](repeating: 0, count: chunk * 2)
            var start = 0
            while start < all.count {
                let end = min(start + chunk, all.count)
                let slice = UnsafeBufferPointer(rebasing: all[start..<end])
                try scratch.withUnsafeMutableBytes { raw in
                    if dtype == .f16 {
                        FloatConversion.narrowToF16(slice, into: raw)
                    } else {
                        FloatConversion.narrowToBF16(slice, into: raw)
                    }
                    try sink(UnsafeRawBufferPointer(rebasing: raw[0..<(slice.count * 2)]))
                }
                start = end
            }
        default:
            throw LSGError(.unsupported, "cannot store float values as \(dtype.rawValue)")
        }
    }
}
