import Foundation
import LSGErrors
import Testing
import TestSupport

@testable import SafeTensors

@Suite struct ReaderWriterTests {
    @Test func readsAValidFileFromMemory() throws {
        let values: [Float] = [1, -2.5, 3, 0.25]
        let header = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[1],"data_offsets":[16,24]},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        let data = SafeTensorsBytes.file(header: header, data: bytes(of: values) + bytes(of: [Int64(-7)]))
        let file = try SafeTensorsFile(data: data, name: "mem")
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.map(\.name) == ["a", "b"])
        let a = try #require(file.info("a"))
        #expect(a.dtype == .f32 && a.shape == [2, 2] && a.dataOffsets == 0..<16 && a.elementCount == 4 && a.byteCount == 16)
        #expect(try file.floats("a") == values)
        #expect(try file.int64s("b") == [-7])
        #expect(file.info("c") == nil)
        expectFileError(naming: "mem", containing: "no tensor named 'c'") { _ = try file.floats("c") }
        expectFileError(naming: "mem", containing: "tensor 'b' has dtype I64, not F32") { _ = try file.floats("b") }
        expectFileError(naming: "mem", containing: "tensor 'a' has dtype F32, not an integer") { _ = try file.int64s("a") }
    }

    @Test func acceptsAnEmptyHeaderAndEmptyTensors() throws {
        let empty = try SafeTensorsFile(data: SafeTensorsBytes.file(header: "{}"), name: "empty")
        #expect(empty.tensors.isEmpty && empty.metadata == nil)
        let header = #"{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#
        let file = try SafeTensorsFile(data: SafeTensorsBytes.file(header: header, data: bytes(of: [Float(5)])), name: "m")
        #expect(file.tensors.map(\.name) == ["z", "s"])
        #expect(try file.floats("s") == [5])
        #expect(try file.floats("z") == [])
    }

    @Test func readsFromADataSlice() throws {
        let image = SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: bytes(of: [Float(3), 4]))
        let padded = Data([9, 9, 9]) + image + Data([9])
        let slice = padded[3..<(3 + image.count)]
        #expect(slice.startIndex == 3)
        let file = try SafeTensorsFile(data: slice, name: "slice")
        #expect(try file.floats("a") == [3, 4])
    }

    @Test func readsNullMetadataAsAbsentLikeTheRustCrate() throws {
        let file = try SafeTensorsFile(data: SafeTensorsBytes.file(header: #"{"__metadata__":null}"#), name: "m")
        #expect(file.metadata == nil && file.tensors.isEmpty)
        let empty = try SafeTensorsFile(data: SafeTensorsBytes.file(header: #"{"__metadata__":{}}"#), name: "m")
        #expect(empty.metadata == [:])
    }

    @Test func acceptsTensorsListedInAnyOrderAndUnpaddedHeaders() throws {
        let header = #" {"b":{"data_offsets":[4,8],"shape":[1],"dtype":"I32"},"a":{"shape":[1],"dtype":"I32","data_offsets":[0,4]}}"#
        let file = try SafeTensorsFile(data: SafeTensorsBytes.file(header: header, data: bytes(of: [Int32(1), 2]), pad: false), name: "m")
        #expect(file.names == ["a", "b"])
        #expect(try file.int64s("b") == [2])
    }

    @Test func writingTwiceGivesTheSameBytes() throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "b": "x", "a": "y"])
        try writer.add("w", floats: [1, 2, 3], shape: [3], as: .bf16)
        try writer.add("v", dtype: .i64, shape: [2], values: [Int64(1), 2])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try writer.write(to: directory.file("1.safetensors"))
        try writer.write(to: directory.file("2.safetensors"))
        #expect(try Data(contentsOf: directory.file("1.safetensors")) == Data(contentsOf: directory.file("2.safetensors")))
        let header = try Data(contentsOf: directory.file("1.safetensors")).dropFirst(8).prefix(33)
        #expect(String(decoding: header, as: UTF8.self) == #"{"__metadata__":{"a":"y","b":"x","#)
    }

    @Test func readsEveryDType() throws {
        var writer = SafeTensorsWriter()
        for dtype in DType.allCases {
            let shape = dtype == .f4 ? [2, 2] : (dtype.bitWidth == 6 ? [4] : [3])
            let count = dtype.byteCount(elements: checkedElementCount(shape)!)!
            let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ dtype.bitWidth) }
            try writer.add("t_\(dtype.rawValue)", dtype: dtype, shape: shape) { sink in try payload.withUnsafeBytes { try sink($0) } }
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("all.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(Set(file.tensors.map(\.dtype)) == Set(DType.allCases))
        for info in file.tensors {
            let payload = (0..<info.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ info.dtype.bitWidth) }
            #expect(try file.withBytes(of: info.name) { Array($0) } == payload)
        }
    }

    @Test func widensIntegersAndFloats() throws {
        var writer = SafeTensorsWriter()
        try writer.add("i8", dtype: .i8, shape: [2], values: [Int8(-128), 127])
        try writer.add("u16", dtype: .u16, shape: [1], values: [UInt16(65535)])
        try writer.add("u32", dtype: .u32, shape: [1], values: [UInt32.max])
        try writer.add("i32", dtype: .i32, shape: [1], values: [Int32.min])
        try writer.add("i16", dtype: .i16, shape: [1], values: [Int16(-3)])
        try writer.add("bool", dtype: .bool, shape: [2], values: [UInt8(1), 0])
        try writer.add("u64", dtype: .u64, shape: [2], values: [UInt64(5), UInt64.max])
        try writer.add("f64", dtype: .f64, shape: [2], values: [0.1, -1e300] as [Double])
        try writer.add("h", floats: [1, 0.1, -65504], shape: [3], as: .f16)
        try writer.add("bh", floats: [1, 0.1, -3e38], shape: [3], as: .bf16)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("w.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.int64s("i8") == [-128, 127])
        #expect(try file.int64s("u16") == [65535])
        #expect(try file.int64s("u32") == [4_294_967_295])
        #expect(try file.int64s("i32") == [Int64(Int32.min)])
        #expect(try file.int64s("i16") == [-3])
        #expect(try file.int64s("bool") == [1, 0])
        expectFileError(naming: url.path, containing: "holds U64 value 18446744073709551615") { _ = try file.int64s("u64") }
        #expect(try file.floats("f64") == [Float(0.1), -Float.infinity])
        #expect(try file.floats("h") == [1, Float(Float16(0.1)), -65504])
        #expect(try file.floats("bh") == [1, Float(bitPattern: 0x3DCD_0000), Float(bitPattern: 0xFF62_0000)])
    }

    @Test func writesTheRustCrateTestVectorsExactly() throws {
        // From the Rust crate's own tests: one F32 tensor "attn.0" of shape [1, 2, 3].
        var writer = SafeTensorsWriter()
        try writer.add("attn.0", floats: [0, 1, 2, 3, 4, 5], shape: [1, 2, 3])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try writer.write(to: directory.file("a.safetensors"))
        let expected: [UInt8] = [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ]
        #expect(Array(try Data(contentsOf: directory.file("a.safetensors"))) == expected)

        let empty = SafeTensorsWriter(metadata: ["framework": "pt"])
        try empty.write(to: directory.file("e.safetensors"))
        #expect(String(decoding: try Data(contentsOf: directory.file("e.safetensors")).dropFirst(8), as: UTF8.self) == #"{"__metadata__":{"framework":"pt"}}     "#)
    }

    @Test func reReadingAReferenceFileAndWritingItBackIsByteIdentical() throws {
        let url = try Resources.url("reference.safetensors")
        let original = try SafeTensorsFile(contentsOf: url)
        var writer = SafeTensorsWriter(metadata: original.metadata)
        // Add in reverse to show the writer's order does not depend on insertion.
        for info in original.tensors.reversed() {
            try writer.add(info.name, dtype: info.dtype, shape: info.shape) { sink in
                try original.withBytes(of: info.name) { try sink($0) }
            }
        }
        let layout = writer.plannedLayout()
        #expect(layout.tensors == original.tensors)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let copy = directory.file("model.safetensors")
        try writer.write(to: copy)
        #expect(try Data(contentsOf: copy) == Data(contentsOf: url))
        #expect(layout.headerSize + (layout.tensors.last?.dataOffsets.upperBound ?? 0) == (try Data(contentsOf: url)).count)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func writesTheReferenceFileFromValues() throws {
        // The same tensors generate.py builds, produced from Swift values.
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("encoder.weight", floats: (0..<6).map { Float($0) / 7 }, shape: [2, 3])
        try writer.add("encoder.bias", floats: [0.5, -1.25, 3.0e-8], shape: [3])
        try writer.add("half", floats: [1.0, -2.5, 65504.0, 6.0e-8, 0.1], shape: [5], as: .f16)
        try writer.add("brain", floats: [1.0, -0.3, 1.0e30, -1.0e-30], shape: [2, 2], as: .bf16)
        try writer.add("ids", dtype: .i64, shape: [3], values: [Int64(0), -1, 9_007_199_254_740_993])
        try writer.add("counts", dtype: .i32, shape: [2], values: [Int32(7), -7])
        try writer.add("double", dtype: .f64, shape: [2], values: [0.1, -2.0] as [Double])
        try writer.add("bytes", dtype: .u8, shape: [3], values: [UInt8(0), 255, 17])
        try writer.add("signed_bytes", dtype: .i8, shape: [2], values: [Int8(-128), 127])
        try writer.add("shorts", dtype: .i16, shape: [1], values: [Int16(-300)])
        try writer.add("mask", dtype: .bool, shape: [3], values: [UInt8(1), 0, 1])
        try writer.add("scalar", floats: [2], shape: [])
        try writer.add("empty", floats: [], shape: [0, 4])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("model.safetensors")
        try writer.write(to: url)
        #expect(try Data(contentsOf: url) == Data(contentsOf: try Resources.url("reference.safetensors")))
    }

    @Test func writerSortsByDTypeRankThenNameBytes() throws {
        var writer = SafeTensorsWriter()
        let order: [DType] = [.bool, .f4, .f6E2M3, .f6E3M2, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .i16, .u16, .f16, .bf16, .i32, .u32, .f32, .c64, .f64, .i64, .u64]
        #expect(Set(order) == Set(DType.allCases))
        for dtype in order {
            let shape = dtype.bitWidth < 8 ? [4] : [1]
            let count = dtype.byteCount(elements: 4)! / (dtype.bitWidth < 8 ? 1 : 4)
            try writer.add(dtype.rawValue.lowercased(), dtype: dtype, shape: shape, values: [UInt8](repeating: 0, count: count))
        }
        for name in ["é", "b", "B", "a"] {
            try writer.add(name, floats: [0], shape: [1])
        }
        let planned = writer.plannedLayout().tensors
        let f32Names = planned.filter { $0.dtype == .f32 }.map(\.name)
        #expect(f32Names == ["B", "a", "b", "f32", "é"])
        var seen: [DType] = []
        for info in planned where seen.last != info.dtype { seen.append(info.dtype) }
        #expect(seen == order.reversed())
        // Safetensors 0.8.0 (generate.py's venv) writes this dtype order for the types torch has.
        let pythonOrder: [DType] = [.u64, .i64, .f64, .c64, .f32, .u32, .i32, .bf16, .f16, .u16, .i16, .f8E5M2FNUZ, .f8E4M3FNUZ, .f8E8M0, .f8E4M3, .f8E5M2, .i8, .u8, .f4, .bool]
        #expect(seen.filter { $0 != .f6E2M3 && $0 != .f6E3M2 } == pythonOrder)
    }

    @Test func headerIsPaddedToEightBytesAndEscapesLikeSerdeJSON() throws {
        var writer = SafeTensorsWriter(metadata: ["z": "1", "a": "é\u{2028}\u{7F}\"\\\n\u{01}/"])
        try writer.add("x", floats: [1], shape: [1])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("m.safetensors")
        try writer.write(to: url)
        let data = try Data(contentsOf: url)
        let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(length % 8 == 0)
        let header = String(decoding: data[8..<(8 + length)], as: UTF8.self)
        let expected = #"{"__metadata__":{"a":"é\#u{2028}\#u{7F}\"\\\n\u0001/","z":"1"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        #expect(header.trimmingCharacters(in: .init(charactersIn: " ")) == expected)
        let reread = try SafeTensorsFile(contentsOf: url)
        #expect(reread.metadata == writer.metadata)
    }

    @Test func writerRefusesBadTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", floats: [1], shape: [1])
        expectFileError(naming: "safetensors writer", containing: "tensor 'a' is added twice") { try writer.add("a", floats: [1], shape: [1]) }
        expectFileError(naming: "safetensors writer", containing: "negative dimension -1") { try writer.add("n", dtype: .f32, shape: [-1]) { _ in } }
        let mismatch = expectFileError(naming: "safetensors writer", containing: "has 2 values but shape [3]") { try writer.add("c", floats: [1, 2], shape: [3]) }
        #expect(mismatch?.kind == .shapeMismatch)
        expectFileError(naming: "safetensors writer", containing: "cannot store Float values as I32") { try writer.add("i", floats: [1], shape: [1], as: .i32) }
        expectFileError(naming: "safetensors writer", containing: "'__metadata__' cannot be a tensor name") { try writer.add("__metadata__", floats: [1], shape: [1]) }
        expectFileError(naming: "safetensors writer", containing: "no whole, 64-bit byte size") { try writer.add("f4", dtype: .f4, shape: [3]) { _ in } }
    }

    @Test(arguments: [3, 5])
    func wrongByteCountFailsAndLeavesNothing(written: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("out.safetensors")
        var writer = SafeTensorsWriter()
        try writer.add("t", dtype: .u8, shape: [4]) { sink in
            try [UInt8](repeating: 7, count: written).withUnsafeBytes { try sink($0) }
        }
        let fragment = written < 4 ? "tensor 't' wrote 3 bytes, expected 4" : "tensor 't' wrote more than its 4 bytes"
        expectFileError(naming: url.path, containing: fragment) { try writer.write(to: url) }
        #expect(try directory.contents().isEmpty)
    }

    @Test func failingProducerLeavesTheExistingFileUntouched() throws {
        struct Boom: Error {}
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("out.safetensors")
        try Data("previous".utf8).write(to: url)
        var writer = SafeTensorsWriter()
        try writer.add("t", dtype: .u8, shape: [1]) { _ in throw Boom() }
        #expect(throws: Boom.self) { try writer.write(to: url) }
        #expect(try directory.contents() == ["out.safetensors"])
        #expect(try Data(contentsOf: url) == Data("previous".utf8))
    }

    @Test func largeTensorsStreamInPieces() throws {
        let count = 300_000
        var writer = SafeTensorsWriter()
        try writer.add("big", dtype: .f32, shape: [count]) { sink in
            var chunk = [Float](repeating: 0, count: 70_000)
            var start = 0
            while start < count {
                let n = min(chunk.count, count - start)
                for i in 0..<n { chunk[i] = Float(start + i) }
                try chunk.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(n * 4)])) }
                start += n
            }
        }
        try writer.add("big16", floats: (0..<count).map { Float($0 % 2048) }, shape: [count], as: .f16)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("big.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(try file.floats("big") == (0..<count).map(Float.init))
        #expect(try file.floats("big16") == (0..<count).map { Float($0 % 2048) })
    }
}
