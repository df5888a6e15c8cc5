import Foundation

/// Builds safetensors byte images by hand, including malformed ones.
public struct SafeTensorsBytes {
    /// A file whose header is `headerJSON` (padded to 8 bytes) followed by `data`.
    public static func file(header headerJSON: String, data: [UInt8] = [], pad: Bool = true) -> Data {
        var header = Array(headerJSON.utf8)
        if pad { header += Array(repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8) }
        return file(headerLength: UInt64(header.count), header: header, data: data)
    }

    /// A file with an arbitrary declared header length.
    public static func file(headerLength: UInt64, header: [UInt8], data: [UInt8] = []) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: headerLength.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: data)
        return bytes
    }
}

/// The malformed safetensors files every reader must refuse (issue 2's list), each with a
/// fragment of the expected one-line error.
public struct MalformedSafeTensors: Sendable, CustomStringConvertible {
    public let name: String
    public let bytes: Data
    public let problem: String

    public var description: String { name }

    static let f32Entry = #"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
    static let eight = [UInt8](repeating: 0, count: 8)

    public static let all: [MalformedSafeTensors] = {
        var invalidUTF8 = Array(#"{"a\#u{e9}":"#.utf8)
        invalidUTF8[3] = 0xFF
        func entry(_ fields: String) -> String { #"{"a":{\#(fields)}}"# }
        return [
            .init(name: "empty file", bytes: Data(), problem: "file is 0 bytes, too short"),
            .init(name: "4 bytes", bytes: Data([1, 0, 0, 0]), problem: "file is 4 bytes, too short"),
            .init(name: "header length past the end", bytes: SafeTensorsBytes.file(headerLength: 64, header: Array("{}".utf8)),
                  problem: "header length 64 runs past the end of the file"),
            .init(name: "header length 2^63", bytes: SafeTensorsBytes.file(headerLength: 1 << 63, header: Array("{}      ".utf8)),
                  problem: "header length 9223372036854775808 exceeds the limit"),
            .init(name: "not JSON", bytes: SafeTensorsBytes.file(header: "hello, world"), problem: "header is not valid JSON"),
            .init(name: "a JSON array", bytes: SafeTensorsBytes.file(header: "[1, 2]"), problem: "header is a JSON array, not an object"),
            .init(name: "invalid UTF-8", bytes: SafeTensorsBytes.file(headerLength: UInt64(invalidUTF8.count), header: invalidUTF8),
                  problem: "header is not valid UTF-8"),
            .init(name: "unknown dtype", bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F33","shape":[2],"data_offsets":[0,8]"#), data: eight),
                  problem: "tensor 'a' has unknown dtype \"F33\""),
            .init(name: "end past the data", bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F32","shape":[3],"data_offsets":[0,12]"#), data: eight),
                  problem: "tensor 'a' data_offsets [0, 12] end past the data section"),
            .init(name: "begin after end", bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F32","shape":[1],"data_offsets":[8,4]"#), data: eight),
                  problem: "tensor 'a' data_offsets [8, 4] begin after end"),
            .init(name: "overlapping tensors",
                  bytes: SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                                               data: [UInt8](repeating: 0, count: 12)),
                  problem: "tensor 'b' data_offsets [4, 12] overlap tensor 'a'"),
            .init(name: "a hole",
                  bytes: SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                                               data: [UInt8](repeating: 0, count: 12)),
                  problem: "tensor 'b' data_offsets [8, 12] leave a hole"),
            .init(name: "shape not matching bytes", bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F32","shape":[3],"data_offsets":[0,8]"#), data: eight),
                  problem: "tensor 'a' shape [3] of F32 needs 12 bytes"),
            .init(name: "negative dimension", bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F32","shape":[-2],"data_offsets":[0,8]"#), data: eight),
                  problem: "tensor 'a' shape has a negative dimension -2"),
            .init(name: "dimensions whose product overflows",
                  bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]"#), data: eight),
                  problem: "more elements than a 64-bit count holds"),
            .init(name: "missing data_offsets", bytes: SafeTensorsBytes.file(header: entry(#""dtype":"F32","shape":[2]"#), data: eight),
                  problem: "tensor 'a' is missing \"data_offsets\""),
            .init(name: "non-string metadata",
                  bytes: SafeTensorsBytes.file(header: #"{"__metadata__":{"format":"pt","step":3},"a":\#(f32Entry)}"#, data: eight),
                  problem: "__metadata__ value for \"step\" is a JSON integer, not a string"),
            .init(name: "truncated data",
                  bytes: SafeTensorsBytes.file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#,
                                               data: [UInt8](repeating: 0, count: 13)),
                  problem: "tensor 'b' data_offsets [8, 24] end past the data section (13 bytes)"),
            .init(name: "duplicate tensor names", bytes: SafeTensorsBytes.file(header: #"{"a":\#(f32Entry),"a":\#(f32Entry)}"#, data: eight),
                  problem: "duplicate key \"a\""),
            .init(name: "trailing bytes", bytes: SafeTensorsBytes.file(header: #"{"a":\#(f32Entry)}"#, data: [UInt8](repeating: 0, count: 11)),
                  problem: "3 trailing bytes after the last tensor"),
        ]
    }()
}
