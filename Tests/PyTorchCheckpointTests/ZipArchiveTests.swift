import Foundation
import Testing

@testable import PyTorchCheckpoint

@Suite struct ZipArchiveTests {
    @Test func crc32MatchesTheStandardCheckValue() {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }
        #expect(check == 0xCBF4_3926)
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
