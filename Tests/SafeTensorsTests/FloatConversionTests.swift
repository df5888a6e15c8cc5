import Foundation
import Testing

@testable import SafeTensors

@Suite struct FloatConversionTests {
    struct Vector: Decodable {
        let f32: UInt32
        let nan: Bool
        let f16_numpy: UInt16
        let f16_torch: UInt16
        let bf16_torch: UInt16
    }

    struct Document: Decodable {
        let vectors: [Vector]
    }

    static func vectors() throws -> [Vector] {
        try JSONDecoder().decode(Document.self, from: Data(contentsOf: Resources.url("float_vectors.json"))).vectors
    }

    @Test func narrowingMatchesNumpyAndTorch() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count > 400)
        for vector in vectors {
            let value = Float(bitPattern: vector.f32)
            let f16 = FloatConversion.f16Bits(from: value)
            let bf16 = FloatConversion.bf16Bits(from: value)
            let input = "0x" + String(vector.f32, radix: 16)
            if vector.nan {
                #expect(f16 & 0x7C00 == 0x7C00 && f16 & 0x03FF != 0, "f16 of NaN \(input) is not NaN")
                #expect(bf16 & 0x7F80 == 0x7F80 && bf16 & 0x007F != 0, "bf16 of NaN \(input) is not NaN")
                #expect(f16 & 0x8000 == UInt16(vector.f32 >> 16) & 0x8000, "f16 of NaN \(input) lost its sign")
                // Torch (x86 vcvtps2ph) keeps the top payload bits and sets the quiet bit, as we do.
                #expect(f16 == vector.f16_torch, "f16 of NaN \(input)")
            } else {
                #expect(f16 == vector.f16_numpy, "f16 of \(input) (\(value))")
                #expect(f16 == vector.f16_torch, "f16 of \(input) (\(value))")
                #expect(bf16 == vector.bf16_torch, "bf16 of \(input) (\(value))")
            }
        }
    }

    @Test func roundingCornerCases() {
        // Ties to even around 1.0 for F16 (ulp 2^-10) and BF16 (ulp 2^-7).
        #expect(FloatConversion.f16Bits(from: 1 + 0x1p-11) == 0x3C00)
        #expect(FloatConversion.f16Bits(from: 1 + 3 * 0x1p-11) == 0x3C02)
        #expect(FloatConversion.bf16Bits(from: 1 + 0x1p-8) == 0x3F80)
        #expect(FloatConversion.bf16Bits(from: 1 + 3 * 0x1p-8) == 0x3F82)
        // Subnormals: smallest, tie to zero, tie to even 2, rounding up into the normal range.
        #expect(FloatConversion.f16Bits(from: 0x1p-24) == 0x0001)
        #expect(FloatConversion.f16Bits(from: 0x1p-25) == 0x0000)
        #expect(FloatConversion.f16Bits(from: -0x1p-25) == 0x8000)
        #expect(FloatConversion.f16Bits(from: 3 * 0x1p-25) == 0x0002)
        #expect(FloatConversion.f16Bits(from: 0x1p-14 - 0x1p-25) == 0x0400)
        // Overflow: 65504 is the largest finite, 65520 is the tie that rounds to infinity.
        #expect(FloatConversion.f16Bits(from: 65504) == 0x7BFF)
        #expect(FloatConversion.f16Bits(from: 65519.996) == 0x7BFF)
        #expect(FloatConversion.f16Bits(from: 65520) == 0x7C00)
        #expect(FloatConversion.f16Bits(from: -.infinity) == 0xFC00)
        #expect(FloatConversion.bf16Bits(from: .greatestFiniteMagnitude) == 0x7F80)
        #expect(FloatConversion.bf16Bits(from: -.infinity) == 0xFF80)
        #expect(FloatConversion.float(fromF16: 0x7E00).isNaN)
        #expect(FloatConversion.float(fromBF16: 0xFFC1).isNaN)
        #expect(FloatConversion.float(fromF16: 0x0001) == 0x1p-24)
        #expect(FloatConversion.float(fromF16: 0x8000).sign == .minus)
    }

    #if arch(x86_64) || arch(arm64)
        @Test func widensEveryF16ExactlyLikeFloat16() {
            for bits in UInt16.min...UInt16.max {
                let ours = FloatConversion.float(fromF16: bits)
                let reference = Float(Float16(bitPattern: bits))
                if reference.isNaN {
                    #expect(ours.isNaN && ours.sign == reference.sign)
                    #expect(ours.bitPattern == reference.bitPattern, "NaN payload of \(bits)")
                } else if ours.bitPattern != reference.bitPattern {
                    Issue.record("F16 \(String(bits, radix: 16)) widens to \(ours), expected \(reference)")
                }
            }
        }

        @Test func narrowingAgreesWithFloat16OnRandomPatterns() {
            var generator = SystemRandomNumberGenerator()
            var mismatches = 0
            for _ in 0..<200_000 {
                let value = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
                guard !value.isNaN else { continue }
                if FloatConversion.f16Bits(from: value) != Float16(value).bitPattern { mismatches += 1 }
            }
            #expect(mismatches == 0)
        }
    #endif

    @Test func everyBF16AndF16RoundTripsThroughFloat() {
        for bits in UInt16.min...UInt16.max {
            let wideBF16 = FloatConversion.float(fromBF16: bits)
            let wideF16 = FloatConversion.float(fromF16: bits)
            if wideBF16.isNaN {
                #expect(FloatConversion.bf16Bits(from: wideBF16) & 0x7FFF >= 0x7F81)
            } else {
                #expect(FloatConversion.bf16Bits(from: wideBF16) == bits)
            }
            if wideF16.isNaN {
                #expect(FloatConversion.f16Bits(from: wideF16) | 0x0200 == bits | 0x0200)
            } else {
                #expect(FloatConversion.f16Bits(from: wideF16) == bits)
            }
        }
    }

    @Test func bulkHelpersMatchTheScalarOnesAtAnyAlignment() {
        let values: [Float] = (0..<1000).map { Float($0) * 0.37 - 150 } + [.nan, .infinity, -0.0, 1e-7]
        for offset in 0..<3 {
            var raw = [UInt8](repeating: 0xAB, count: values.count * 2 + offset)
            raw.withUnsafeMutableBytes { buffer in
                values.withUnsafeBufferPointer {
                    FloatConversion.narrowToF16($0, into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]))
                }
            }
            var widened = [Float](repeating: 0, count: values.count)
            raw.withUnsafeBytes { buffer in
                widened.withUnsafeMutableBufferPointer {
                    FloatConversion.widenF16(UnsafeRawBufferPointer(rebasing: buffer[offset...]), into: $0)
                }
            }
            let expected = values.map { FloatConversion.float(fromF16: FloatConversion.f16Bits(from: $0)) }
            #expect(widened.map(\.bitPattern) == expected.map(\.bitPattern))

            raw.withUnsafeMutableBytes { buffer in
                values.withUnsafeBufferPointer {
                    FloatConversion.narrowToBF16($0, into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]))
                }
            }
            raw.withUnsafeBytes { buffer in
                widened.withUnsafeMutableBufferPointer {
                    FloatConversion.widenBF16(UnsafeRawBufferPointer(rebasing: buffer[offset...]), into: $0)
                }
            }
            let expectedBF16 = values.map { FloatConversion.float(fromBF16: FloatConversion.bf16Bits(from: $0)) }
            #expect(widened.map(\.bitPattern) == expectedBF16.map(\.bitPattern))
        }
        #expect(FloatConversion.narrowToF16([1, -2]) == [0x3C00, 0xC000])
        #expect(FloatConversion.widenBF16([0x3F80]) == [1])
    }
}
