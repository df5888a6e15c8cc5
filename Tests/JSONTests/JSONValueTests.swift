import Foundation
import SafeTensors
import Testing

@testable import JSON

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
        // The copied folder is the resource directory itself on Linux and inside it on macOS.
        let base = try #require(Bundle.module.resourceURL)
        let url = [base, base.appendingPathComponent("Resources")].map { $0.appendingPathComponent("python_json.json") }
            .first { FileManager.default.fileExists(atPath: $0.path) }
        return try JSONDecoder().decode(PythonCases.self, from: Data(contentsOf: try #require(url)))
    }

    func parseError(_ text: String, syntax: JSONSyntax = .strict) -> JSONParseError? {
        do {
            _ = try JSONValue.parse(text, syntax: syntax)
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
        #expect(parseError("1e400")?.message == "number outside the double range")
        #expect(try JSONValue.parse("2.0") == .double(2))
        #expect(try JSONValue.parse("2.0").intValue == nil)
        #expect(try JSONValue.parse("1E+2") == .double(100))
        #expect(try JSONValue.parse("-1.5e-3").doubleValue == -0.0015)
    }

    /// transformers writes VERY_LARGE_INTEGER (int(1e30)) as model_max_length; Python reads
    /// integers of any size and writes them back digit for digit.
    @Test func readsIntegersOfAnySizeLikePython() throws {
        let text = #"{"model_max_length": 1000000000000000019884624838656, "n": -9223372036854775809, "m": 9223372036854775808}"#
        let value = try JSONValue.parse(text)
        #expect(value["model_max_length"] == .bigInteger("1000000000000000019884624838656"))
        #expect(value["n"] == .bigInteger("-9223372036854775809"))
        #expect(value["m"] == .bigInteger("9223372036854775808"))
        #expect(value["model_max_length"]?.intValue == nil)
        #expect(value["model_max_length"]?.doubleValue == 1e30)
        #expect(value["model_max_length"]?.typeName == "integer")
        #expect(value.pythonJSONString(indent: 2, sortKeys: false) == """
            {
              "model_max_length": 1000000000000000019884624838656,
              "n": -9223372036854775809,
              "m": 9223372036854775808
            }
            """)
        #expect(try JSONValue.parse(String(repeating: "9", count: 4300)) == .bigInteger(String(repeating: "9", count: 4300)))
        #expect(parseError(String(repeating: "9", count: 4301), syntax: .python)?.message
            == "integer of more than 4300 digits (Python's limit)")
    }

    @Test func readsNaNAndInfinityLikePython() throws {
        let value = try JSONValue.parse(#"[NaN, Infinity, -Infinity, 1e400, -1e400, -1]"#)
        guard case .array(let items) = value, case .double(let nan) = items[0] else {
            Issue.record("not an array of doubles: \(value)")
            return
        }
        #expect(nan.isNaN)
        #expect(Array(items.dropFirst()) == [.double(.infinity), .double(-.infinity), .double(.infinity), .double(-.infinity), .int(-1)])
        #expect(value.pythonJSONString(indent: 0).filter { !$0.isWhitespace } == "[NaN,Infinity,-Infinity,Infinity,-Infinity,-1]")
        // The compact form too, so whatever the parser accepts, both writers can print and re-read
        // (a fuzzed 3e308 overflowed to infinity and came out as `inf`).
        #expect(value.compactString() == "[NaN,Infinity,-Infinity,Infinity,-Infinity,-1]")
        #expect(try JSONValue.parse("3e308").compactString() == "Infinity")
        // A document holding NaN equals itself and its re-read copy (and hashes alike), so the
        // checks that a value survives its written form hold for every document Python reads.
        #expect(value == value)
        #expect(try JSONValue.parse(value.compactString()) == value)
        #expect(Set([value, try JSONValue.parse(value.pythonJSONString())]).count == 1)
        #expect(JSONValue.double(.nan) != .double(0))
        #expect(JSONValue.double(-0.0) == .double(0))
        for text in ["NaN", "Infinity", "-Infinity"] {
            #expect(parseError(text) != nil, "strict syntax reads \(text)")
        }
        #expect(parseError("-Inf", syntax: .python)?.message == "invalid literal")
        #expect(parseError("nan", syntax: .python)?.message == "invalid literal")
    }

    @Test func resolvesDuplicateKeysLikePython() throws {
        let document = try JSONValue.parseDocument(Data(#"{"a":1,"b":2,"a":3,"c":{"x":1,"x":{"y":2}}}"#.utf8))
        // Python's dict keeps the first key's place and the last value.
        #expect(document.value.objectValue?.keys == ["a", "b", "c"])
        #expect(document.value["a"] == 3)
        #expect(document.value["c"]?["x"] == ["y": 2])
        #expect(document.duplicateKeys == [.init(key: #""a""#, offset: 13), .init(key: #""x""#, offset: 30)])
    }

    @Test func refusesHostileNumbersQuickly() throws {
        let clock = ContinuousClock()
        let huge = String(repeating: "7", count: 100_000)
        let elapsed = clock.measure {
            #expect(parseError(huge, syntax: .python)?.message == "integer of more than 4300 digits (Python's limit)")
            #expect(parseError("0." + huge, syntax: .python)?.message == "number of more than 4300 characters")
            #expect(parseError(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), syntax: .python)?.message
                == "nesting deeper than 512 levels")
        }
        #expect(elapsed < .seconds(2))
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
        // Non-finite floats as Python's json.dumps writes them, which the parser reads back
        // (the compact form used to print Swift's "inf"; found by Fuzz/smoke's config target).
        let nonFinite = try JSONValue.parse(Data(#"{"a": [1, -0, 1.5e-300, 1e3098, -1e999, NaN]}"#.utf8))
        #expect(nonFinite.compactString() == #"{"a":[1,0,1.5e-300,Infinity,-Infinity,NaN]}"#)
        #expect(try JSONValue.parse(Data(nonFinite.compactString().utf8)).compactString() == nonFinite.compactString())
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
        // What Python's json also refuses, the python syntax refuses the same way.
        let pythonReads = ["NaN", "Infinity"].contains(text) || message.hasPrefix("duplicate key")
        if !pythonReads {
            let pythonError = parseError(text, syntax: .python)
            #expect(pythonError?.description.contains(message) == true, "\(text.debugDescription): \(String(describing: pythonError))")
        }
    }

    @Test func reportsTheOffsetOfDuplicateKeysInStrictSyntax() {
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
        #expect(throws: Never.self) { try JSONValue.parse(String(repeating: "[", count: 512) + String(repeating: "]", count: 512)) }
    }

    @Test func decodesEscapes() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#) == .string("\"\\/\u{8}\u{C}\n\r\tAé😀"))
        #expect(try JSONValue.parse("  \t\r\n{ \"a\" : [ ] }\n ") == ["a": []])
    }

    /// Regression (FuzzConfig smoke run): a duplicate key holding an escaped newline made the
    /// parse error span two lines.
    @Test func duplicateKeyErrorStaysOnOneLine() {
        #expect(throws: JSONParseError(message: #"duplicate key "a\nb""#, offset: 10)) {
            try JSONValue.parse(#"{"a\nb":1,"a\nb":2}"#, syntax: .strict)
        }
    }
}
