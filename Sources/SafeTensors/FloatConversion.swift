/// Bit-exact conversions between Float and the 16-bit formats IEEE binary16 (F16) and bfloat16
/// (BF16). Narrowing rounds to nearest, ties to even; overflow gives infinity; subnormals are
/// exact; a NaN stays a NaN of the same sign with its quiet bit set and the top of its payload
/// kept (what x86 `vcvtps2ph` does). Widening is exact (an F16 NaN comes back quiet).
public enum FloatConversion {
    // MARK: Scalars

    public static func f16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x4780_0000 {  // |value| >= 65536 (past the largest rounding target), inf or NaN
            if magnitude > 0x7F80_0000 {
                return sign | 0x7E00 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x03FF)
            }
            return sign | 0x7C00
        }
        if magnitude < 0x3880_0000 {  // below 2^-14: an F16 subnormal or zero
            // Adding 0.5 aligns the F16 subnormal grid with Float's last mantissa bits, and the
            // hardware addition rounds to nearest even for us.
            let aligned = Float(bitPattern: magnitude) + 0.5
            return sign | UInt16(truncatingIfNeeded: aligned.bitPattern - Float(0.5).bitPattern)
        }
        // Normal: rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest even.
        let odd = (magnitude >> 13) & 1
        let rounded = magnitude &- (112 << 23) &+ 0x0FFF &+ odd
        return sign | UInt16(truncatingIfNeeded: rounded >> 13)
    }

    @inline(__always)
    public static func float(fromF16 bits: UInt16) -> Float {
        // Placing exponent and mantissa at the bottom of a Float's fields and multiplying by
        // 2^112 (the bias difference) is exact for normals, subnormals and zero, and branch-free.
        let shifted = UInt32(bits & 0x7FFF) << 13
        var magnitude = (Float(bitPattern: shifted) * 0x1p112).bitPattern
        if bits & 0x7C00 == 0x7C00 {
            // Infinity, or a NaN that comes back quiet with its payload, as the x86 and ARM
            // conversion instructions do.
            magnitude = 0x7F80_0000 | shifted | (bits & 0x03FF != 0 ? 0x0040_0000 : 0)
        }
        return Float(bitPattern: magnitude | UInt32(bits & 0x8000) << 16)
    }

    public static func bf16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 {
            return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
        }
        // Round to nearest even on the 16 dropped bits; carrying into the exponent is right
        // (including overflow to infinity).
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    // MARK: Bulk (little-endian bytes, any alignment)

    /// Widens `destination.count` little-endian F16 values from `source`.
    public static func widenF16(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count >= destination.count * 2, "F16 source too short")
        for index in 0..<destination.count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
            destination[index] = float(fromF16: bits)
        }
    }

    /// Widens `destination.count` little-endian BF16 values from `source`.
    public static func widenBF16(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count >= destination.count * 2, "BF16 source too short")
        for index in 0..<destination.count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
            destination[index] = Float(bitPattern: UInt32(bits) << 16)
        }
    }

    /// Narrows `source` to little-endian F16 values at the start of `destination`.
    public static func narrowToF16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= source.count * 2, "F16 destination too short")
        for index in 0..<source.count {
            destination.storeBytes(of: f16Bits(from: source[index]).littleEndian, toByteOffset: index &* 2, as: UInt16.self)
        }
    }

    /// Narrows `source` to little-endian BF16 values at the start of `destination`.
    public static func narrowToBF16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawBufferPointer) {
        precondition(destination.count >= source.count * 2, "BF16 destination too short")
        for index in 0..<source.count {
            destination.storeBytes(of: bf16Bits(from: source[index]).littleEndian, toByteOffset: index &* 2, as: UInt16.self)
        }
    }

    public static func widenF16(_ bits: [UInt16]) -> [Float] { bits.map(float(fromF16:)) }
    public static func widenBF16(_ bits: [UInt16]) -> [Float] { bits.map(float(fromBF16:)) }
    public static func narrowToF16(_ values: [Float]) -> [UInt16] { values.map(f16Bits(from:)) }
    public static func narrowToBF16(_ values: [Float]) -> [UInt16] { values.map(bf16Bits(from:)) }
}
