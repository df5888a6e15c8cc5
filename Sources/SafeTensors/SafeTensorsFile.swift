import Foundation

// Tensor bytes are little-endian in the format and are handed out and taken in unswapped.
#if _endian(big)
    #error("SafeTensors assumes a little-endian host")
#endif

/// A validated safetensors file. Tensor data is read in place (memory-mapped for files), never
/// copied until asked for. Immutable after init, so safe to share between threads.
public final class SafeTensorsFile: @unchecked Sendable {
    private enum Storage {
        case mapped(MappedFile)
        case data(Data)
    }

    /// Path or given name, used in errors.
    public let name: String
    public let metadata: [String: String]?
    /// In data-offset order.
    public let tensors: [TensorInfo]
    private let storage: Storage
    private let dataStart: Int
    private let indexByName: [String: Int]

    /// Maps the file and validates it fully.
    public init(contentsOf url: URL) throws {
        name = url.path
        let mapped = try MappedFile(path: url.path)
        let header = try Header(parsing: mapped.bytes, file: name)
        storage = .mapped(mapped)
        metadata = header.metadata
        tensors = header.tensors
        dataStart = header.dataStart
        indexByName = Self.index(header.tensors)
    }

    /// Validates a safetensors image already in memory (for example after zstd decompression).
    public init(data: Data, name: String) throws {
        self.name = name
        let parsed = data.withUnsafeBytes { bytes in
            Result { () throws(SafeTensorsError) -> Header in try Header(parsing: bytes, file: name) }
        }
        let header = try parsed.get()
        storage = .data(data)
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
            throw SafeTensorsError(file: name, problem: "no tensor named '\(tensorName)'")
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
        switch storage {
        case .mapped(let mapped):
            return try body(UnsafeRawBufferPointer(rebasing: mapped.bytes[range]))
        case .data(let data):
            return try data.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }

    /// The tensor's values as Float: F32 copied, F16 and BF16 widened exactly, F64 rounded.
    public func floats(_ tensorName: String) throws -> [Float] {
        let info = try requireInfo(tensorName)
        let count = info.elementCount
        return try withBytes(of: info) { bytes in
            switch info.dtype {
            case .f32:
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
                    initialized = count
                }
            case .f16:
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    FloatConversion.widenF16(bytes, into: buffer)
                    initialized = count
                }
            case .bf16:
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    FloatConversion.widenBF16(bytes, into: buffer)
                    initialized = count
                }
            case .f64:
                return (0..<count).map { index in
                    Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
                }
            default:
                throw SafeTensorsError(file: name, problem: "tensor '\(tensorName)' has dtype \(info.dtype), not F32, F16, BF16 or F64")
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
                        throw SafeTensorsError(file: name, problem: "tensor '\(tensorName)' holds U64 value \(value), above Int64.max")
                    }
                    return exact
                }
            default:
                throw SafeTensorsError(file: name, problem: "tensor '\(tensorName)' has dtype \(info.dtype), not an integer or BOOL type")
            }
        }
    }
}
