import Foundation
import Testing

@testable import PyTorchCheckpoint

@Suite struct ZipArchiveTests {
    @Test func crc32MatchesTheStandardCheckValue() {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }
        #expect(check == 0xCBF4_3926)
    }

    @Test func crc32AgreesWithTheBytewiseDefinitionAtEveryLength() {
        func bytewise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(bytes.withUnsafeBytes { CRC32.checksum($0) } == bytewise(bytes), "length \(length)")
        }
    }

    @Test(arguments: ["../evil", "a/../../b", "/etc/passwd", "a\\b", "a//b", "a/./b", "", "a/\0"])
    func namesThatLeaveTheArchiveAreUnsafe(_ name: String) {
        #expect(!ZipArchive.isSafeName(name))
    }

    @Test func plainRelativeNamesAreSafe() {
        #expect(ZipArchive.isSafeName("archive/data/0"))
        #expect(ZipArchive.isSafeName("pytorch_model/data.pkl"))
    }
}
