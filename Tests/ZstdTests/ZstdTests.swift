import Foundation
import LSGErrors
import Testing
@testable import Zstd

@Suite struct ZstdTests {
    private func sampleData(count: Int) -> Data {
        var generator = SplitMix64(seed: 7)
        return Data((0..<count).map { index in index % 3 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : UInt8(index % 251) })
    }

    @Test(arguments: [0, 1, 1000, 3_000_000])
    func roundTrip(count: Int) throws {
        let data = sampleData(count: count)
        let compressed = try Zstd.compress(data, level: 3)
        #expect(try Zstd.decompress(compressed) == data)
    }

    @Test func compressionIsDeterministic() throws {
        let data = sampleData(count: 200_000)
        #expect(try Zstd.compress(data) == Zstd.compress(data))
    }

    @Test func streamingInSmallChunksMatchesOneShot() throws {
        let data = sampleData(count: 500_000)
        let compressed = try Zstd.compress(data, level: 3)
        let decompressor = try ZstdDecompressor()
        var output = Data()
        try compressed.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + 777, bytes.count)
                try decompressor.decompress(UnsafeRawBufferPointer(rebasing: bytes[offset..<end])) { output.append(contentsOf: $0) }
                offset = end
            }
        }
        try decompressor.finish()
        #expect(output == data)
    }

    @Test func decompressesTheZstdCommandLineFormat() throws {
        // Bytes made by `printf 'hello golden\n' | zstd -19 | xxd -i`.
        let frame: [UInt8] = [
            0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x68, 0x69, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x67,
            0x6f, 0x6c, 0x64, 0x65, 0x6e, 0x0a, 0xf4, 0x94, 0x90, 0x46,
        ]
        #expect(try Zstd.decompress(Data(frame)) == Data("hello golden\n".utf8))
    }

    @Test func truncatedDataIsRefused() throws {
        let compressed = try Zstd.compress(sampleData(count: 100_000), level: 3)
        #expect(throws: LSGError.self) { try Zstd.decompress(compressed.prefix(compressed.count / 2)) }
    }

    @Test func garbageIsRefused() {
        for garbage in [Data("not zstd at all".utf8), Data()] {
            let error = #expect(throws: LSGError.self) { try Zstd.decompress(garbage) }
            #expect(error?.kind == .malformed)
        }
    }

    @Test func outputLimitStopsDecompressionBombs() throws {
        let compressed = try Zstd.compress(Data(count: 10_000_000), level: 3)
        #expect(compressed.count < 10_000)
        let error = #expect(throws: LSGError.self) { try Zstd.decompress(compressed, maxOutputBytes: 1_000_000) }
        #expect(error?.description.contains("exceeds the limit") == true)
        #expect(error?.kind == .limitExceeded)
    }

    @Test func fileErrorsNameTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zstd-test-\(UUID().uuidString).zst")
        try Data("garbage".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: LSGError.self) { try Zstd.decompressFile(at: url) }
        #expect(error?.description.hasPrefix(url.path) == true)
    }
}

/// Small deterministic generator so test data does not depend on the system RNG.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
