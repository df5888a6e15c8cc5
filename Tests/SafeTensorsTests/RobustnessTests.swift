import Foundation
import LSGErrors
import Testing
import TestSupport

@testable import SafeTensors

/// Mutated and truncated files must be refused with an LSGError or read consistently,
/// never trap.
@Suite struct RobustnessTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func check(_ bytes: Data) {
        do {
            let file = try SafeTensorsFile(data: bytes, name: "fuzz")
            var end = 0
            for info in file.tensors {
                #expect(info.dataOffsets.lowerBound == end)
                end = info.dataOffsets.upperBound
                #expect(try file.withBytes(of: info.name) { $0.count } == info.byteCount)
            }
        } catch let error as LSGError {
            #expect(error.subject == "fuzz" && !error.description.contains("\n"))
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test func mutatedReferenceFilesNeverTrap() throws {
        let original = try Data(contentsOf: Resources.url("reference.safetensors"))
        let headerEnd = 8 + Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var generator = SplitMix64(state: 42)
        // Interesting replacement bytes for JSON: digits, signs, quotes, brackets, high bytes.
        let alphabet = Array("0123456789-+.eE\"{}[],: \\u".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<3000 {
            var bytes = original
            let mutations = Int.random(in: 1...3, using: &generator)
            for _ in 0..<mutations {
                let position = Int.random(in: 0..<headerEnd, using: &generator)
                bytes[position] = Bool.random(using: &generator)
                    ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            check(bytes)
        }
        for length in stride(from: 0, through: original.count, by: 7) {
            check(original.prefix(length))
        }
    }

    @Test func hostileHeaderLengthsNeverTrap() {
        for declared: UInt64 in [0, 1, 7, 8, 99_999_999, 100_000_000, 100_000_001, UInt64(Int.max), UInt64(Int.max) + 1, .max] {
            check(SafeTensorsBytes.file(headerLength: declared, header: Array("{}      ".utf8)))
        }
        for offsets in ["[0,9223372036854775807]", "[9223372036854775807,9223372036854775807]", "[-1,0]", "[0]", "[0,4,8]", "{}", "null"] {
            check(SafeTensorsBytes.file(header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":\#(offsets)}}"#, data: [1, 2, 3, 4]))
        }
        for shape in ["[9223372036854775807]", "[2305843009213693952]", "[3037000500,3037000500]", "[0,9223372036854775807]", "[1.5]", "[true]", "{}"] {
            check(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F64","shape":\#(shape),"data_offsets":[0,0]}}"#))
        }
    }
}
