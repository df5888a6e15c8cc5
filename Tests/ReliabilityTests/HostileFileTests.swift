import Checkpoint
import Foundation
import LSGErrors
import SafeTensors
import Testing
import TestSupport
import Zstd

/// Issue 7's hostile files: limits checked before anything is built, compressed files bounded
/// by what they declare, FIFOs refused wherever a conversion reads, errors on one line.
@Suite(.timeLimit(.minutes(2)))
struct HostileFileTests {
    // MARK: Tensor count

    /// A header of `count` entries `"kNNNNNNN":0`, preceded by `first`.
    static func header(first: String, count: Int) -> [UInt8] {
        var bytes = Array("{\(first)".utf8)
        bytes.reserveCapacity(bytes.count + count * 13 + 1)
        for index in 0..<count {
            bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "k")])
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 7)
            var value = index
            for position in (0..<7).reversed() {
                digits[position] += UInt8(value % 10)
                value /= 10
            }
            bytes.append(contentsOf: digits)
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: "0")])
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    @Test func tooManyTensorsAreRefusedBeforeTheHeaderIsParsed() throws {
        // The first entry is not JSON: a parser-first reader reports that; the count comes first.
        let header = Self.header(first: #""a":tru"#, count: SafeTensorsLimits.maxTensors + 1)
        let bytes = SafeTensorsBytes.file(headerLength: UInt64(header.count), header: header)
        let start = ContinuousClock.now
        let error = #expect(throws: LSGError.self) { try SafeTensorsFile(data: bytes, name: "hostile") }
        #expect(error?.problem == "header lists 1000002 entries, more than the limit of 1000000 tensors")
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test func theTensorLimitCountsEntriesExactly() throws {
        // Commas, brackets and escaped quotes inside strings are not separators.
        let tricky = #"{"__metadata__":{"a,b":"c,\"d],{"},"x,[y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let file = try SafeTensorsFile(data: SafeTensorsBytes.file(header: tricky, data: [UInt8](repeating: 0, count: 8)),
                                       name: "tricky")
        #expect(file.names == ["x,[y"])
        #expect(file.metadata == ["a,b": "c,\"d],{"])
    }

    // MARK: inspect at scale

    @Test func inspectionTableIsLinearInTheNumberOfModules() throws {
        // Every tensor its own module: the table used to rescan all tensors for each module.
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var writer = SafeTensorsWriter()
        for index in 0..<20_000 { try writer.add("t\(index)", floats: [Float(index)], shape: []) }
        try writer.write(to: scratch.file("many.safetensors"))
        let start = ContinuousClock.now
        let table = try CheckpointInspection(path: scratch.file("many.safetensors")).renderTable()
        #expect(ContinuousClock.now - start < .seconds(30))
        #expect(table.contains("\nt19999 (1 tensors, 1 params)\n"))
        #expect(table.contains("total: 20000 tensors, 20,000 parameters, 80,000 bytes"))
    }

    @Test func inspectReadsAPyTorchBinFile() throws {
        let binary = repositoryRoot.appendingPathComponent("Tests/PyTorchCheckpointTests/Resources/state_dict.bin")
        let result = try runTool(["inspect", binary.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("files: state_dict.bin"))
    }

    @Test func inspectReadsALegacyPyTorchBinFileAndRefusesAHostileOne() throws {
        let resources = repositoryRoot.appendingPathComponent("Tests/PyTorchCheckpointTests/Resources/legacy")
        let result = try runTool(["inspect", resources.appendingPathComponent("state_dict.bin").path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("files: state_dict.bin") && result.standardOutput.contains("embeddings.position_ids"))
        let hostile = resources.appendingPathComponent("hostile/os_system.bin").path
        let refused = try runTool(["inspect", hostile])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("\(hostile): pickle: refuses global 'posix.system'"))
        #expect(refused.standardError.split(separator: "\n").count == 1, "\(refused.standardError)")
    }

    // MARK: Compressed weights

    static let smallFile = SafeTensorsBytes.file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                                                 data: [UInt8](repeating: 0, count: 8))

    static func inspectionError(of compressed: Data) throws -> String? {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("w.safetensors.zst")
        try compressed.write(to: url)
        let error = #expect(throws: LSGError.self) { try CheckpointInspection(path: url) }
        #expect(error?.subject == url.path)
        return error?.problem
    }

    @Test func compressedWeightsMustDeclareTheirSize() throws {
        let compressor = try ZstdCompressor(level: 3)  // streaming, size not given: not in the frame header
        var compressed = Data()
        try Self.smallFile.withUnsafeBytes { try compressor.compress($0) { compressed.append(contentsOf: $0) } }
        try compressor.finish { compressed.append(contentsOf: $0) }
        #expect(try Self.inspectionError(of: compressed) == "the zstd frame does not declare its content size")
    }

    @Test func compressedWeightsMustMatchTheirHeader() throws {
        // The frame holds 1 MiB more than the header describes: refused from the header alone.
        let padded = Self.smallFile + Data(count: 1 << 20)
        #expect(try Self.inspectionError(of: Zstd.compress(padded, level: 3))
            == "the zstd frame declares \(padded.count) bytes but the safetensors header describes \(Self.smallFile.count)")
    }

    @Test func compressedWeightsAreOneFrame() throws {
        let frame = try Zstd.compress(Self.smallFile, level: 3)
        #expect(try Self.inspectionError(of: frame + frame) == "\(frame.count) bytes follow the zstd frame (only one frame is read)")
    }

    @Test func compressedWeightsWithTheirSizeAreInspected() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("w.safetensors.zst")
        try Zstd.compress(Self.smallFile, level: 3).write(to: url)
        #expect(try CheckpointInspection(path: url).tensors.map(\.name) == ["w"])
    }

    // MARK: Files a conversion reads

    @Test func aModelingFileThatIsAFIFOIsRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let modeling = scratch.file("modeling_lsg_camembert.py")
        #expect(mkfifo(modeling.path, 0o600) == 0)
        let source = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny").path
        let result = try runTool(["--from", source, "--max-length", "1024", "--modeling-file", modeling.path,
                                  "--out", scratch.file("out").path])
        expectRefusal(result, containing: [modeling.path + ": not a regular file"])
        #expect(try entries(of: scratch.url) == ["modeling_lsg_camembert.py"])
    }

    @Test func aPathWithALineBreakGivesOneErrorLine() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let result = try runTool(["inspect", scratch.file("two\nlines.safetensors").path])
        expectRefusal(result, containing: ["two lines.safetensors: no such file or directory"])
    }
}
