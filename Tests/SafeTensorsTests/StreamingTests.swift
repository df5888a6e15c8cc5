import Foundation
import LSGErrors
import TestSupport
import Testing

@testable import SafeTensors

/// Bounded reading (pieces, released pages, selected rows) and the writer's shard plan.
@Suite struct StreamingTests {
    /// A mapped file with an F32 [rows, 3] tensor between two others, values 0, 1, 2, ...
    static func file(rows: Int, dtype: DType = .f32) throws -> (TemporaryDirectory, SafeTensorsFile, [Float]) {
        let values = (0..<(rows * 3)).map { Float($0) }
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("a.before", floats: [7], shape: [1])
        try writer.add("b.table", floats: values, shape: [rows, 3], as: dtype)
        try writer.add("c.after", floats: [8, 9], shape: [2])
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("model.safetensors")
        try writer.write(to: url)
        return (directory, try SafeTensorsFile(contentsOf: url), values)
    }

    @Test(arguments: [1, 24, 48, 1000, 1 << 20])
    func piecesCoverTheTensorInOrder(chunkBytes: Int) throws {
        let (directory, file, _) = try Self.file(rows: 1000)
        defer { directory.remove() }
        var joined: [UInt8] = []
        var largest = 0
        try file.forEachChunk(of: "b.table", chunkBytes: chunkBytes) { piece in
            joined += piece
            largest = max(largest, piece.count)
        }
        #expect(joined == (try file.withBytes(of: "b.table") { Array($0) }))
        #expect(largest <= max(chunkBytes / 24, 1) * 24)
        // Released pages read back unchanged, neighbours included.
        try file.releasePages(of: "b.table")
        #expect(try file.floats("a.before") == [7])
        #expect(try file.floats("c.after") == [8, 9])
        #expect(try file.withBytes(of: "b.table") { Array($0) } == joined)
    }

    @Test(arguments: [DType.f32, .f16, .bf16, .f64])
    func floatsAndFloatPiecesAgree(dtype: DType) throws {
        // F32 and F64: 2^19 rows of 3, several default-size pieces.
        let rows = dtype == .f64 || dtype == .f32 ? 1 << 19 : 600
        let (directory, file, values) = try Self.file(rows: rows, dtype: dtype)
        defer { directory.remove() }
        let expected = switch dtype {
        case .f16: values.map { FloatConversion.float(fromF16: FloatConversion.f16Bits(from: $0)) }
        case .bf16: values.map { FloatConversion.float(fromBF16: FloatConversion.bf16Bits(from: $0)) }
        default: values
        }
        #expect(try file.floats("b.table") == expected)
        var pieces: [Float] = []
        try file.forEachFloatChunk(of: "b.table") { pieces += $0 }
        #expect(pieces == expected)
        #expect(try file.floats("b.table", rows: 2..<4) == Array(expected[6..<12]))
        #expect(try file.floats("b.table", rows: 0..<0) == [])
    }

    @Test func rowsOutsideTheTensorAreAnError() throws {
        let (directory, file, _) = try Self.file(rows: 4)
        defer { directory.remove() }
        _ = expectFileError(naming: file.name, containing: "has no rows 3..<5") { _ = try file.floats("b.table", rows: 3..<5) }
        _ = expectFileError(naming: file.name, containing: "no tensor named 'nope'") { try file.forEachChunk(of: "nope") { _ in } }
    }

    @Test(arguments: [nil, 1 << 30, 40, 64, 1])
    func plannedShardsAreTheFilesWritten(maxShardBytes: Int?) throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for (name, dtype, shape) in ShardTests.referenceOrder {
            let count = shape.reduce(1, *) * dtype.bitWidth / 8
            let bytes = [UInt8](repeating: 1, count: count)
            try writer.add(name, dtype: dtype, shape: shape) { sink in try bytes.withUnsafeBytes { try sink($0) } }
        }
        let planned = try writer.plannedShards(maxShardBytes: maxShardBytes)
        let output = try TemporaryDirectory()
        defer { output.remove() }
        var observed: [String: Int] = [:]
        let observer: SafeTensorsWriter.Observer = { file, bytes in observed[file, default: 0] += bytes.count }
        let written: [URL]
        if let maxShardBytes {
            written = try writer.writeSharded(to: output.url, maxShardBytes: maxShardBytes, observer: observer)
        } else {
            try writer.write(to: output.url.appendingPathComponent("model.safetensors"), observer: observer)
            written = [output.url.appendingPathComponent("model.safetensors")]
        }
        let weights = written.filter { $0.lastPathComponent != SafeTensorsIndex.defaultFileName }
        #expect(weights.map(\.lastPathComponent) == planned.map(\.fileName))
        for (url, shard) in zip(weights, planned) {
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
            #expect(size == shard.byteCount)
            #expect(observed[url.lastPathComponent] == shard.byteCount)
            #expect(try SafeTensorsFile(contentsOf: url).tensors == shard.tensors)
        }
        #expect(throws: LSGError.self) { _ = try writer.plannedShards(maxShardBytes: 0) }
    }
}
