import Foundation
import Parallel
import SafeTensors

/// How many NaN and infinite values a float tensor holds, counted on its raw bytes (no
/// conversion, so every float dtype is exact).
public struct NonFiniteCount: Sendable, Hashable {
    public var nan = 0
    public var infinity = 0

    public init(nan: Int = 0, infinity: Int = 0) {
        self.nan = nan
        self.infinity = infinity
    }

    public var isFinite: Bool { nan == 0 && infinity == 0 }

    /// "3 NaN, 1 infinite".
    public var summary: String { "\(nan) NaN, \(infinity) infinite" }

    /// Counts the values of `bytes`, little-endian `dtype`; nil for dtypes without NaN or
    /// infinity (integers, BOOL). C64 counts each real and imaginary part.
    public init?(bytes: UnsafeRawBufferPointer, dtype: DType) {
        switch dtype {
        case .f64: self = Self.ieee(bytes, UInt64.self, exponent: 0x7FF0_0000_0000_0000, mantissa: 0x000F_FFFF_FFFF_FFFF)
        case .f32, .c64: self = Self.ieee(bytes, UInt32.self, exponent: 0x7F80_0000, mantissa: 0x007F_FFFF)
        case .f16: self = Self.ieee(bytes, UInt16.self, exponent: 0x7C00, mantissa: 0x03FF)
        case .bf16: self = Self.ieee(bytes, UInt16.self, exponent: 0x7F80, mantissa: 0x007F)
        case .f8E5M2: self = Self.ieee(bytes, UInt8.self, exponent: 0x7C, mantissa: 0x03)
        // E4M3 ("fn"): no infinity, NaN is S.1111.111. The FNUZ types: NaN is 0x80 alone.
        case .f8E4M3: self = NonFiniteCount(nan: bytes.reduce(0) { $0 + ($1 & 0x7F == 0x7F ? 1 : 0) })
        case .f8E4M3FNUZ, .f8E5M2FNUZ: self = NonFiniteCount(nan: bytes.reduce(0) { $0 + ($1 == 0x80 ? 1 : 0) })
        case .f8E8M0: self = NonFiniteCount(nan: bytes.reduce(0) { $0 + ($1 == 0xFF ? 1 : 0) })
        // The F6 and F4 types encode only finite values.
        case .f6E2M3, .f6E3M2, .f4: self = NonFiniteCount()
        case .bool, .u8, .i8, .u16, .i16, .u32, .i32, .u64, .i64: return nil
        }
    }

    private static func ieee<T: FixedWidthInteger & UnsignedInteger>(
        _ bytes: UnsafeRawBufferPointer, _: T.Type, exponent: T, mantissa: T
    ) -> NonFiniteCount {
        var count = NonFiniteCount()
        let size = MemoryLayout<T>.size
        for offset in stride(from: 0, to: bytes.count - size + 1, by: size) {
            let bits = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
            guard bits & exponent == exponent else { continue }
            if bits & mantissa == 0 { count.infinity += 1 } else { count.nan += 1 }
        }
        return count
    }
}

extension NonFiniteCount {
    /// The count of each named tensor (nil for integer tensors), on every core, in input order.
    /// Tensors are read in bounded pieces (`forEachChunk`), so their pages do not stay resident.
    public static func counts(ofEach tensors: [(file: SafeTensorsFile, name: String)]) throws -> [NonFiniteCount?] {
        try Parallel().map(tensors.count) { index in
            let (file, name) = tensors[index]
            guard let info = file.info(name),
                  var total = NonFiniteCount(bytes: UnsafeRawBufferPointer(start: nil, count: 0), dtype: info.dtype) else {
                return nil
            }
            try file.forEachChunk(of: name) { piece in
                let count = NonFiniteCount(bytes: piece, dtype: info.dtype)!
                total.nan += count.nan
                total.infinity += count.infinity
            }
            return total
        }
    }
}
