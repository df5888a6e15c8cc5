import Foundation
import Testing

@testable import SafeTensors

@Suite struct JSONValueTests {
    struct PythonCases: Decodable {
        struct Document: Decodable {
            let input: String
            let dumps: String
            let dumps_unicode: String
        }

        struct FloatRepr: Decodable {
            let bits: String
            let repr: String
        }

        let documents: [Document]
        let float_reprs: [FloatRepr]
    }

    static func pythonCases() throws -> PythonCases {
        try JSONDecoder().decode(PythonCases.self, from: Data(contentsOf: Resources.url("python_json.json")))
    }

    func parseError(_ text: String) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func serializesLikePythonJSONDumps() throws {
        let cases = try Self.pythonCases()
        #expect(cases.documents.count >= 9)
        for document in cases.documents {
            let value = try JSONValue.parse(document.input)
            #expect(value.pythonJSONString(indent: 2, sortKeys: true) == document.dumps, "\(document.input)")
            #expect(value.pythonJSONString(indent: 2, sortKeys: true, ensureASCII: false) == document.dumps_unicode, "\(document.input)")
            // Python's output parses back to the same value.
            #expect(try JSONValue.parse(document.dumps) == value)
        }
    }

    @Test func printsFloatsLikePythonRepr() throws {
        let cases = try Self.pythonCases()
        #expect(cases.float_reprs.count > 200)
        for entry in cases.float_reprs {
            let value = Double(bitPattern: try #require(UInt64(entry.bits, radix: 16)))
            #expect(pythonFloatRepr(value) == entry.repr, "bits \(entry.bits)")
        }
        #expect(JSONValue.double(.nan).pythonJSONString() == "NaN")
        #expect(JSONValue.double(-.infinity).pythonJSONString() == "-Infinity")
    }

    @Test func keepsIntegersExact() throws {
        let value = try JSONValue.parse(#"[9007199254740993, -9223372036854775808, 9223372036854775807, -0, 0]"#)
        #expect(value == [.int(9_007_199_254_740_993), .int(Int.min), .int(Int.max), .int(0), .int(0)])
        #expect(parseError("9223372036854775808")?.message == "integer outside the 64-bit range")
        #expect(parseError("-9223372036854775809")?.message == "integer outside the 64-bit range")
        #expect(try JSONValue.parse("2.0") == .double(2))
        #expect(try JSONValue.parse("2.0").intValue == nil)
        #expect(try JSONValue.parse("1E+2") == .double(100))
        #expect(try JSONValue.parse("-1.5e-3").doubleValue == -0.0015)
        #expect(parseError("1e400")?.message == "number outside the double range")
    }

    @Test func compactSerializationKeepsInsertionOrder() throws {
        let text = #"{"z":1,"a":[true,false,null,"\u00e9\n"],"m":{},"n":[],"f":0.5}"#
        let value = try JSONValue.parse(text)
        #expect(value.compactString() == #"{"z":1,"a":[true,false,null,"é\n"],"m":{},"n":[],"f":0.5}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m", "n", "f"])
    }

    @Test func objectsCompareLikePythonDicts() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) == JSONValue.parse(#"{"b":2,"a":1}"#))
        #expect(try JSONValue.parse(#"{"a":1}"#) != JSONValue.parse(#"{"a":1.0}"#))
        var object: JSONObject = ["x": 1, "y": 2]
        object["x"] = nil
        object["z"] = "s"
        object["y"] = 3
        #expect(object.keys == ["y", "z"])
        #expect(JSONValue.object(object).compactString() == #"{"y":3,"z":"s"}"#)
    }

    @Test func accessors() throws {
        let value = try JSONValue.parse(#"{"s":"x","i":3,"d":0.5,"b":true,"n":null,"a":[1],"o":{"k":1}}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.intValue == 3 && value["i"]?.doubleValue == 3)
        #expect(value["d"]?.doubleValue == 0.5 && value["d"]?.intValue == nil)
        #expect(value["b"]?.boolValue == true)
        #expect(value["n"]?.isNull == true)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["o"]?["k"] == 1)
        #expect(value["missing"] == nil)
        #expect(value["o"]?.typeName == "object")
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{", "expected a string key"),
        ("[1,]", "unexpected character ']'"),
        ("[1 2]", "expected ',' or ']' in an array"),
        (#"{"a" 1}"#, "expected ':' after an object key"),
        (#"{"a":1,}"#, "expected a string key"),
        (#"{"a":1 "b":2}"#, "expected ',' or '}' in an object"),
        ("01", "leading zero in a number"),
        ("1.", "invalid number"),
        (".5", "unexpected character '.'"),
        ("-", "invalid number"),
        ("1e", "invalid number"),
        ("+1", "unexpected character '+'"),
        ("NaN", "unexpected character 'N'"),
        ("Infinity", "unexpected character 'I'"),
        ("nul", "invalid literal"),
        ("truex", "unexpected data after the JSON value"),
        ("truth", "invalid literal"),
        (#""abc"#, "unterminated string"),
        ("\"a\u{01}b\"", "control character U+0001 in a string"),
        (#""\x""#, "invalid escape '\\x'"),
        (#""\u12g4""#, "invalid \\u escape"),
        (#""\ud800""#, "lone surrogate \\ud800"),
        (#""\ud800\u0041""#, "lone surrogate \\ud800"),
        (#""\udc00""#, "lone surrogate \\udc00"),
        ("{} {}", "unexpected data after the JSON value"),
        ("\u{FEFF}{}", "unexpected character"),
        (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
        (#"[{"k":{"x":1,"y":{"x":2,"x":3}}}]"#, "duplicate key \"x\""),
    ])
    func rejectsMalformedDocuments(text: String, message: String) {
        let error = parseError(text)
        #expect(error?.description.contains(message) == true, "\(text.debugDescription): \(String(describing: error))")
    }

    @Test func reportsTheOffsetOfDuplicateKeys() {
        #expect(parseError(#"{"a":1,"a":2}"#) == JSONParseError(message: "duplicate key \"a\"", offset: 7))
    }

    @Test func rejectsInvalidUTF8() throws {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xF0, 0x9F, 0x98],
        ]
        for bytes in cases {
            #expect(throws: JSONParseError(message: "invalid UTF-8", offset: 1)) { try JSONValue.parse(Data(bytes)) }
        }
        #expect(try JSONValue.parse(Data([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22])) == "😀")
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try JSONValue.parse(deep) }
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(parseError(tooDeep)?.message == "nesting deeper than 128 levels")
        #expect(throws: (any Error).self) { try JSONValue.parse(String(repeating: #"{"a":"#, count: 5) + "1" + String(repeating: "}", count: 5), maxDepth: 4) }
        // Far deeper input fails cleanly instead of overflowing the stack.
        #expect(parseError(String(repeating: "[", count: 1_000_000))?.message == "nesting deeper than 128 levels")
    }

    @Test func decodesEscapes() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#) == .string("\"\\/\u{8}\u{C}\n\r\tAé😀"))
        #expect(try JSONValue.parse("  \t\r\n{ \"a\" : [ ] }\n ") == ["a": []])
    }

    @Test func loadNamesTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("config.json")
        try Data(#"{"a": [1, }"#.utf8).write(to: url)
        expectSafeTensorsError(naming: url.path, containing: "not valid JSON: unexpected character '}' at byte 10") {
            _ = try JSONValue.load(contentsOf: url)
        }
        expectSafeTensorsError(naming: directory.file("none.json").path, containing: "cannot read") {
            _ = try JSONValue.load(contentsOf: directory.file("none.json"))
        }
    }

    /// Regression (FuzzConfig smoke run): a duplicate key holding an escaped newline made the
    /// parse error span two lines.
    @Test func duplicateKeyErrorStaysOnOneLine() {
        #expect(throws: JSONParseError(message: #"duplicate key "a\nb""#, offset: 10)) {
            try JSONValue.parse(#"{"a\nb":1,"a\nb":2}"#)
        }
    }
}
