import Foundation
import LSGErrors
import Testing
import TestSupport

@testable import SafeTensors

/// Each malformed file must be refused with a one-line LSGError naming the file, both
/// from memory and from disk (mmap path).
@Suite struct MalformedFileTests {
    static let f32Entry = #"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

    func expectRejected(_ data: Data, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        expectFileError(naming: "bad.safetensors", containing: fragment, sourceLocation: sourceLocation) {
            _ = try SafeTensorsFile(data: data, name: "bad.safetensors")
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("bad.safetensors")
        try data.write(to: url)
        expectFileError(naming: url.path, containing: fragment, sourceLocation: sourceLocation) {
            _ = try SafeTensorsFile(contentsOf: url)
        }
    }

    @Test func emptyFile() throws {
        try expectRejected(Data(), "file is 0 bytes, too short")
    }

    @Test func fourBytes() throws {
        try expectRejected(Data([1, 0, 0, 0]), "file is 4 bytes, too short")
    }

    @Test func headerLengthPastTheEnd() throws {
        try expectRejected(SafeTensorsBytes.file(headerLength: 64, header: Array("{}".utf8)), "header length 64 runs past the end of the file (10 bytes)")
    }

    @Test func headerLengthTwoToThe63() throws {
        try expectRejected(SafeTensorsBytes.file(headerLength: 1 << 63, header: Array("{}      ".utf8)), "header length 9223372036854775808 exceeds the limit")
    }

    @Test func headerLengthAboveTheLimit() throws {
        try expectRejected(SafeTensorsBytes.file(headerLength: 100_000_001, header: []), "exceeds the limit of 100000000 bytes")
    }

    @Test func notJSON() throws {
        try expectRejected(SafeTensorsBytes.file(header: "hello, world"), "header is not valid JSON")
    }

    @Test func jsonArray() throws {
        try expectRejected(SafeTensorsBytes.file(header: "[1, 2]"), "header is a JSON array, not an object")
    }

    @Test func invalidUTF8() throws {
        var header = Array(#"{"a\#u{e9}":"#.utf8)
        header[3] = 0xFF
        try expectRejected(SafeTensorsBytes.file(headerLength: UInt64(header.count), header: header), "header is not valid UTF-8")
    }

    @Test func unknownDType() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' has unknown dtype \"F33\"")
    }

    @Test func endPastTheData() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' data_offsets [0, 12] end past the data section (8 bytes)")
    }

    @Test func beginAfterEnd() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' data_offsets [8, 4] begin after end")
    }

    @Test func overlappingTensors() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 12)), "tensor 'b' data_offsets [4, 12] overlap tensor 'a'")
    }

    @Test func hole() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 12)), "tensor 'b' data_offsets [8, 12] leave a hole")
    }

    @Test func holeAtTheStart() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "tensor 'a' data_offsets [4, 8] leave a hole: bytes 0..<4")
    }

    @Test func shapeNotMatchingBytes() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8")
    }

    @Test func negativeDimension() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' shape has a negative dimension -2")
    }

    @Test func dimensionsWhoseProductOverflows() throws {
        let header = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "more elements than a 64-bit count holds")
    }

    @Test func byteSizeOverflows() throws {
        let header = #"{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "byte size that overflows 64 bits")
    }

    @Test func offsetBeyondTheIntegerRange() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "integer outside the 64-bit range")
    }

    @Test func fractionalOffset() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "data_offsets must be two integers, got [0,8.0]")
    }

    @Test func missingDataOffsets() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' is missing \"data_offsets\"")
    }

    @Test func missingDType() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' is missing \"dtype\"")
    }

    @Test func missingShape() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "tensor 'a' is missing \"shape\"")
    }

    @Test func unknownKeyInATensorEntry() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"stride":[1]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "tensor 'a' has unknown key \"stride\"")
    }

    @Test func nonStringMetadata() throws {
        let header = #"{"__metadata__":{"format":"pt","step":3},"a":\#(Self.f32Entry)}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "__metadata__ value for \"step\" is a JSON integer, not a string")
    }

    @Test func metadataNotAnObject() throws {
        let header = #"{"__metadata__":["pt"],"a":\#(Self.f32Entry)}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "__metadata__ is a JSON array")
    }

    @Test func truncatedData() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 13)), "tensor 'b' data_offsets [8, 24] end past the data section (13 bytes)")
    }

    @Test func duplicateTensorNames() throws {
        let header = #"{"a":\#(Self.f32Entry),"a":\#(Self.f32Entry)}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "duplicate key \"a\"")
    }

    @Test func duplicateKeyInsideAnEntry() throws {
        let header = #"{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        try expectRejected(SafeTensorsBytes.file(header: header, data: Array(repeating: 0, count: 8)), "duplicate key \"dtype\"")
    }

    @Test func trailingBytes() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":\#(Self.f32Entry)}"#, data: Array(repeating: 0, count: 11)), "3 trailing bytes after the last tensor")
    }

    @Test func subByteTypeNotFillingWholeBytes() throws {
        try expectRejected(SafeTensorsBytes.file(header: #"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, data: [0, 0]), "does not fill whole bytes (3 x 4 bits)")
    }

    @Test func nestingTooDeep() throws {
        let header = #"{"__metadata__":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        try expectRejected(SafeTensorsBytes.file(header: header), "nesting deeper than 128 levels")
    }

    @Test func missingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("absent.safetensors")
        expectFileError(naming: url.path, containing: "cannot open") {
            _ = try SafeTensorsFile(contentsOf: url)
        }
    }

    @Test func directoryInsteadOfFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        expectFileError(naming: directory.url.path, containing: "not a regular file") {
            _ = try SafeTensorsFile(contentsOf: directory.url)
        }
    }
}
