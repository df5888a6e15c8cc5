/// An element type of the safetensors format. Raw values are the names the format's header uses.
public enum DType: String, Sendable, CaseIterable, Codable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case u16 = "U16"
    case i16 = "I16"
    case u32 = "U32"
    case i32 = "I32"
    case u64 = "U64"
    case i64 = "I64"
    case f16 = "F16"
    case bf16 = "BF16"
    case f32 = "F32"
    case f64 = "F64"
    case c64 = "C64"
    case f8E4M3 = "F8_E4M3"
    case f8E5M2 = "F8_E5M2"
    case f8E8M0 = "F8_E8M0"
    case f8E4M3FNUZ = "F8_E4M3FNUZ"
    case f8E5M2FNUZ = "F8_E5M2FNUZ"
    case f6E2M3 = "F6_E2M3"
    case f6E3M2 = "F6_E3M2"
    case f4 = "F4"

    /// Size of one element in bits (BOOL 8, F4 4, F6 6, C64 64).
    public var bitWidth: Int {
        switch self {
        case .f4: 4
        case .f6E2M3, .f6E3M2: 6
        case .bool, .u8, .i8, .f8E4M3, .f8E5M2, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
        case .u16, .i16, .f16, .bf16: 16
        case .u32, .i32, .f32: 32
        case .u64, .i64, .f64, .c64: 64
        }
    }

    /// Position in the Rust crate's `Dtype` enum. Writers order tensors by this rank, largest
    /// first, then by name (checked against safetensors 0.8.0).
    var writeRank: Int {
        switch self {
        case .bool: 0
        case .f4: 1
        case .f6E2M3: 2
        case .f6E3M2: 3
        case .u8: 4
        case .i8: 5
        case .f8E5M2: 6
        case .f8E4M3: 7
        case .f8E8M0: 8
        case .f8E4M3FNUZ: 9
        case .f8E5M2FNUZ: 10
        case .i16: 11
        case .u16: 12
        case .f16: 13
        case .bf16: 14
        case .i32: 15
        case .u32: 16
        case .f32: 17
        case .c64: 18
        case .f64: 19
        case .i64: 20
        case .u64: 21
        }
    }

    /// Bytes needed for `elementCount` elements, or nil when the count is negative, the
    /// arithmetic overflows, or a sub-byte type does not fill whole bytes.
    public func byteCount(elements elementCount: Int) -> Int? {
        guard elementCount >= 0 else { return nil }
        let (bits, overflow) = elementCount.multipliedReportingOverflow(by: bitWidth)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }
}

extension DType: CustomStringConvertible {
    public var description: String { rawValue }
}
