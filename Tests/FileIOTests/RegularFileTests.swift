import FileIO
import Foundation
import TestSupport
import Testing

@Suite struct RegularFileTests {
    @Test(arguments: [1, 4096, 10_000, 1 << 22])
    func mappedFileChunksCoverTheFileInOrder(chunkBytes: Int) throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("bytes")
        let content = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try content.write(to: url)
        var joined = Data()
        var largest = 0
        try RegularFile.forEachChunk(of: url, chunkBytes: chunkBytes) { piece in
            joined.append(contentsOf: piece)
            largest = max(largest, piece.count)
        }
        #expect(joined == content)
        #expect(largest == min(chunkBytes, content.count))

        let empty = directory.url.appendingPathComponent("empty")
        try Data().write(to: empty)
        var calls = 0
        try RegularFile.forEachChunk(of: empty) { _ in calls += 1 }
        #expect(calls == 0)
    }

    @Test func mappedFileChunksRefuseMissingFilesAndFIFOs() throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let missing = directory.url.appendingPathComponent("missing")
        expectFileError(naming: missing.path, containing: "cannot open") {
            try RegularFile.forEachChunk(of: missing) { _ in }
        }
        let fifo = directory.url.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        expectFileError(naming: fifo.path, containing: "not a regular file") {
            try RegularFile.forEachChunk(of: fifo) { _ in }
        }
    }
}
