import FileIO
import Foundation
import LSGErrors

// Tensor bytes are little-endian in the format and are handed out and taken in unswapped.
#if _endian(big)
    #error("SafeTensors assumes a little-endian host")
#endif

/// A validated safetensors file. Tensor data is read in place (memory-mapped for files), never
/// copied until asked for. Immutable after init, so safe to share between threads.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Path or given name, used in errors.
    public let name: String
    public let metadata: [String: String]?
    /// In data-offset order.
    public let tensors: [TensorInfo]
    private let storage: FileBytes
    private let dataStart: Int
    private let indexByName: [String: Int]

    /// Maps the file and validates it fully.
    public convenience init(contentsOf url: URL) throws {
        try self.init(mapped: MappedFile(path: url.path), name: url.path)
    }

    /// Validates a mapped file fully; `name` is used in errors.
    public convenience init(mapped: MappedFile, name: String) throws {
        try self.init(storage: .mapped(mapped), name: name)
    }

    /// Validates a safetensors image already in memory (for example after zstd decompression).
    public convenience init(data: Data, name: String) throws {
        try self.init(storage: .inMemory(data), name: name)
    }

    private init(storage: FileBytes, name: String) throws {
        self.name = name
        let parsed = storage.withBytes { bytes in
            Result { () throws(LSGError) -> Header in try Header(parsing: bytes, file: name) }
        }
        let header = try parsed.get()
        self.storage = storage
        metadata = header.metadata
        tensors = header.tensors
        dataStart = header.dataStart
        indexByName = Self.index(header.tensors)
    }

    private static func index(_ tensors: [TensorInfo]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    public func info(_ name: String) -> TensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// Tensor names in data-offset order.
    public var names: [String] { tensors.map(\.name) }

    func requireInfo(_ tensorName: String) throws -> TensorInfo {
        guard let info = info(tensorName) else {
            throw LSGError(.missingTensor, file: name, "no tensor named '\(tensorName)'")
        }
        return info
    }

    /// Calls `body` with the raw little-endian bytes of the tensor (valid only during the call).
    public func withBytes<R>(of tensorName: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try requireInfo(tensorName)
        return try withBytes(of: info, body)
    }

    func withBytes<R>(of info: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let range = (dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound)
        return try storage.withBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Pieces handed out by `forEachChunk` are multiples of this many bytes (except the last),
    /// so each holds whole elements of every dtype (F6 packs 4 elements in 3 bytes, C64 is 8).
    static let chunkUnit = 24
    /// Default size of the pieces `forEachChunk` hands out.
    public static let defaultChunkBytes = 4 << 20

    /// Calls `body` with the tensor's bytes in order, in pieces of at most `chunkBytes`, and
    /// drops each piece's mapped pages from the resident set once `body` returns: reading a
    /// tensor of any size this way keeps about one piece in memory.
    public func forEachChunk(of tensorName: String, chunkBytes: Int = defaultChunkBytes,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try forEachChunk(of: requireInfo(tensorName), chunkBytes: chunkBytes, body)
    }

    func forEachChunk(of info: TensorInfo, chunkBytes: Int = defaultChunkBytes,
                      _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let step = max(chunkBytes / Self.chunkUnit, 1) * Self.chunkUnit
        try withBytes(of: info) { bytes in
            var start = 0
            while start < bytes.count {
                let end = min(start + step, bytes.count)
                try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                storage.release(dataStart + info.dataOffsets.lowerBound + start..<(dataStart + info.dataOffsets.lowerBound + end))
                start = end
            }
        }
    }

    /// Drops the tensor's mapped pages from the resident set (they come back, from the page
    /// cache, when read again). Does nothing for an in-memory image.
    public func releasePages(of tensorName: String) throws {
        let info = try requireInfo(tensorName)
        storage.release((dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound))
    }

    /// The tensor's values as Float: F32 copied, F16 and BF16 widened exactly, F64 rounded.
    /// Read piece by piece (`forEachChunk`), so the mapped bytes do not stay resident.
    public func floats(_ tensorName: String) throws -> [Float] {
        try floats(of: requireInfo(tensorName))
    }

    /// Rows `rows` (first dimension) of the tensor as Float; only those rows are read.
    public func floats(_ tensorName: String, rows: Range<Int>) throws -> [Float] {
        let info = try requireInfo(tensorName)
        guard let count = info.shape.first, rows.lowerBound >= 0, rows.upperBound <= count else {
            throw LSGError(.invalidInput, file: name, "tensor '\(tensorName)' of shape \(info.shape) has no rows \(rows)")
        }
        let rowBytes = count == 0 ? 0 : info.byteCount / count
        let offsets = (info.dataOffsets.lowerBound + rows.lowerBound * rowBytes)..<(info.dataOffsets.lowerBound + rows.upperBound * rowBytes)
        return try floats(of: TensorInfo(name: info.name, dtype: info.dtype, shape: [rows.count] + info.shape.dropFirst(),
                                         dataOffsets: offsets))
    }

    private func floats(of info: TensorInfo) throws -> [Float] {
        let width = try floatWidth(info)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            var filled = 0
            try forEachChunk(of: info) { bytes in
                let values = UnsafeMutableBufferPointer(rebasing: buffer[filled..<(filled + bytes.count / width)])
                Self.widen(bytes, info.dtype, into: values)
                filled += values.count
            }
            initialized = filled
        }
    }

    /// Calls `body` with the tensor's values as Float (as `floats` converts them), in bounded
    /// pieces read with `forEachChunk`: converting a tensor of any size keeps one piece in memory.
    public func forEachFloatChunk(of tensorName: String, _ body: (UnsafeBufferPointer<Float>) throws -> Void) throws {
        let info = try requireInfo(tensorName)
        let width = try floatWidth(info)
        var scratch = [Float](repeating: 0, count: Self.defaultChunkBytes / width + Self.chunkUnit)
        try scratch.withUnsafeMutableBufferPointer { scratch in
            try forEachChunk(of: info) { bytes in
                let values = UnsafeMutableBufferPointer(rebasing: scratch[0..<(bytes.count / width)])
                Self.widen(bytes, info.dtype, into: values)
                try body(UnsafeBufferPointer(values))
            }
        }
    }

    /// Bytes per element of a float dtype `floats` reads.
    private func floatWidth(_ info: TensorInfo) throws -> Int {
        switch info.dtype {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .f64: return 8
        default:
            throw LSGError(.unsupported, file: name, "tensor '\(info.name)' has dtype \(info.dtype), not F32, F16, BF16 or F64")
        }
    }

    private static func widen(_ bytes: UnsafeRawBufferPointer, _ dtype: DType, into values: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .f32: UnsafeMutableRawBufferPointer(values).copyMemory(from: bytes)
        case .f16: FloatConversion.widenF16(bytes, into: values)
        case .bf16: FloatConversion.widenBF16(bytes, into: values)
        default:
            for index in values.indices {
                let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                values[index] = Float(Double(bitPattern: bits))
            }
        }
    }

    /// The tensor's values as Int64, widened from any integer dtype or BOOL (U64 values above
    /// Int64.max are an error).
    public func int64s(_ tensorName: String) throws -> [Int64] {
        let info = try requireInfo(tensorName)
        let count = info.elementCount
        func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: UnsafeRawBufferPointer) -> [Int64] {
            (0..<count).map { Int64(T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
        }
        return try withBytes(of: info) { bytes in
            switch info.dtype {
            case .i64: return load(Int64.self, bytes)
            case .i32: return load(Int32.self, bytes)
            case .i16: return load(Int16.self, bytes)
            case .i8: return load(Int8.self, bytes)
            case .u8, .bool: return load(UInt8.self, bytes)
            case .u16: return load(UInt16.self, bytes)
            case .u32: return load(UInt32.self, bytes)
            case .u64:
                return try (0..<count).map { index in
                    let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                    guard let exact = Int64(exactly: value) else {
                        throw LSGError(.limitExceeded, file: name, "tensor '\(tensorName)' holds U64 value \(value), above Int64.max")
                    }
                    return exact
                }
            default:
                throw LSGError(.unsupported, file: name, "tensor '\(tensorName)' has dtype \(info.dtype), not an integer or BOOL type")
            }
        }
    }
}
